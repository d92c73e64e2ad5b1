"""The bot's fixed texts in the languages people ask in; passages stay in the archive's language.

A question is answered in its own language (embeddings.text.language reads it); a command such
as /help, which has no question to read, in the language the user's Telegram client reports.
Languages not listed here get English. `holds`, `holds_span` and `how_to_ask` are Telegram
HTML whose `{…}` fields the caller fills with escaped values; the rest are plain text (button
labels and callback notices are plain on Telegram's side), escaped where they go into HTML.
Counts are written with digits and no text needs plural forms: where a language would, the
sentence is built around the number ("Статей в архиве: 281").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Messages:
    building: str  # /help before the index exists
    holds: str  # {count}
    holds_span: str  # {count}, {first}, {last}
    how_to_ask: str  # {bot}: the bot's username
    not_found: str  # a declined answer with nothing close: how to rephrase
    uncertain: str  # above a declined answer's close match
    rate_limited: str  # {seconds}
    too_long: str  # {length}, {limit}
    error: str  # a handler failed
    more: str
    full_article: str
    timeline: str  # the button: the topic over time
    previous: str
    next: str
    thanks: str  # after 👍 or 👎
    expired: str  # a button of an answer whose session is gone
    unknown_button: str
    article_gone: str
    all_shown: str  # "More" with nothing left
    article_above: str  # "Full article" pressed again: the open one was refreshed
    link: str  # the word for an article's link in a citation


ENGLISH = Messages(
    building="The archive is being built; ask again in a minute.",
    holds="The archive holds <b>{count}</b> articles.",
    holds_span="The archive holds <b>{count}</b> articles, from {first} to {last}.",
    how_to_ask=(
        "Ask me about it in plain words — for example <i>What did Wang Yi say about the UN?</i> "
        "I answer in one line first, then with the passages that say it, grouped by article, "
        "and where each comes from.\n\n"
        "• In a private chat, just type your question.\n"
        "• In a group, use /ask <i>question</i>, mention @{bot}, or reply to one of my answers.\n"
        "• In any chat, type @{bot} <i>question</i> to share an answer.\n\n"
        "/sources shows what the archive holds."
    ),
    not_found=(
        "I couldn't find anything in the archive that answers that. "
        "Try other words, or a name, place or date from the story you have in mind."
    ),
    uncertain="Not sure this answers it — the closest match I found:",
    rate_limited="You're asking faster than I can read — try again in {seconds} s.",
    too_long="Sorry, the question is {length} characters long; please keep it under {limit}.",
    error="Sorry — something went wrong on my side. Please try again in a moment.",
    more="More",
    full_article="Full article",
    timeline="Timeline",
    previous="‹ Previous",
    next="Next ›",
    thanks="Thanks for the feedback!",
    expired="This answer has expired — please ask the question again.",
    unknown_button="I don't know that button.",
    article_gone="That article is no longer in the archive.",
    all_shown="That's all I found.",
    article_above="The article is open above.",
    link="link",
)

RUSSIAN = Messages(
    building="Архив ещё собирается; спросите снова через минуту.",
    holds="Статей в архиве: <b>{count}</b>.",
    holds_span="Статей в архиве: <b>{count}</b>, с {first} по {last}.",
    how_to_ask=(
        "Спрашивайте о нём простыми словами — например, <i>Что Ван И сказал об ООН?</i> "
        "Сначала я отвечаю одной строкой, затем привожу отрывки, где это сказано, "
        "сгруппированные по статьям, с указанием источника.\n\n"
        "• В личном чате просто напишите вопрос.\n"
        "• В группе используйте /ask <i>вопрос</i>, упомяните @{bot} или ответьте на одно из "
        "моих сообщений.\n"
        "• В любом чате наберите @{bot} <i>вопрос</i>, чтобы поделиться ответом.\n\n"
        "/sources — что есть в архиве."
    ),
    not_found=(
        "Я не нашёл в архиве ничего, что отвечало бы на этот вопрос. Попробуйте другие слова "
        "или имя, место либо дату из той истории, которую вы ищете."
    ),
    uncertain="Не уверен, что это ответ, — вот самое близкое, что я нашёл:",
    rate_limited="Вы спрашиваете быстрее, чем я успеваю читать, — попробуйте снова через "
    "{seconds} с.",
    too_long="Извините, вопрос слишком длинный (длина: {length}, предел: {limit}). "
    "Сократите его, пожалуйста.",
    error="Извините, у меня что-то пошло не так. Попробуйте ещё раз чуть позже.",
    more="Ещё",
    full_article="Вся статья",
    timeline="Хронология",
    previous="‹ Назад",
    next="Далее ›",
    thanks="Спасибо за отзыв!",
    expired="Этот ответ устарел — задайте вопрос ещё раз.",
    unknown_button="Я не знаю такой кнопки.",
    article_gone="Этой статьи уже нет в архиве.",
    all_shown="Это всё, что я нашёл.",
    article_above="Статья открыта выше.",
    link="ссылка",
)

CHINESE = Messages(
    building="档案库正在建立中，请一分钟后再问。",
    holds="档案库共收录 <b>{count}</b> 篇文章。",
    holds_span="档案库共收录 <b>{count}</b> 篇文章，时间从 {first} 到 {last}。",
    how_to_ask=(
        "请用平常的话提问——例如<i>王毅对联合国说了什么？</i>"
        "我会先用一句话回答，再按文章列出说明这一点的段落及其出处。\n\n"
        "• 在私聊中，直接输入你的问题。\n"
        "• 在群组中，使用 /ask <i>问题</i>、提及 @{bot}，或回复我的某条回答。\n"
        "• 在任何聊天中，输入 @{bot} <i>问题</i> 即可分享回答。\n\n"
        "/sources 显示档案库收录的内容。"
    ),
    not_found=(
        "档案库中没有找到能回答这个问题的内容。"
        "请换个说法，或者用你要找的报道中的人名、地名或日期来提问。"
    ),
    uncertain="不确定这是否回答了你的问题——这是我找到的最接近的内容：",
    rate_limited="你提问太快了，我来不及读——请 {seconds} 秒后再试。",
    too_long="抱歉，问题太长了（{length} 个字符，上限为 {limit}）。请缩短后再问。",
    error="抱歉——我这边出了点问题。请稍后再试。",
    more="更多",
    full_article="全文",
    timeline="时间线",
    previous="‹ 上一页",
    next="下一页 ›",
    thanks="谢谢你的反馈！",
    expired="这个回答已过期——请重新提问。",
    unknown_button="我不认识这个按钮。",
    article_gone="这篇文章已不在档案库中。",
    all_shown="我找到的就这些。",
    article_above="文章已在上方打开。",
    link="链接",
)

ARABIC = Messages(
    building="الأرشيف قيد الإنشاء؛ اسأل مرة أخرى بعد دقيقة.",
    holds="عدد المقالات في الأرشيف: <b>{count}</b>.",
    holds_span="عدد المقالات في الأرشيف: <b>{count}</b>، من {first} إلى {last}.",
    how_to_ask=(
        "اسألني عنه بكلمات بسيطة — مثلًا <i>ماذا قال وانغ يي عن الأمم المتحدة؟</i> "
        "أجيب أولًا بسطر واحد، ثم بالمقاطع التي تذكر ذلك مجمّعةً حسب المقالة، مع مصدر كلٍّ منها.\n\n"
        "• في المحادثة الخاصة، اكتب سؤالك فقط.\n"
        "• في المجموعة، استخدم /ask <i>سؤالك</i>، أو اذكر @{bot}، أو ردّ على إحدى إجاباتي.\n"
        "• في أي محادثة، اكتب @{bot} <i>سؤالك</i> لمشاركة إجابة.\n\n"
        "/sources يعرض محتوى الأرشيف."
    ),
    not_found=(
        "لم أجد في الأرشيف ما يجيب عن ذلك. جرّب كلمات أخرى، "
        "أو اسمًا أو مكانًا أو تاريخًا من الخبر الذي تبحث عنه."
    ),
    uncertain="لست متأكدًا من أن هذا يجيب عن سؤالك — هذا أقرب ما وجدته:",
    rate_limited="أنت تسأل أسرع مما أستطيع القراءة — حاول مرة أخرى بعد {seconds} ث.",
    too_long="عذرًا، السؤال طويل جدًا (الطول: {length}، والحد الأقصى: {limit}). يُرجى اختصاره.",
    error="عذرًا — حدث خطأ من جهتي. يُرجى المحاولة مرة أخرى بعد قليل.",
    more="المزيد",
    full_article="المقالة كاملة",
    timeline="التسلسل الزمني",
    previous="السابق",
    next="التالي",
    thanks="شكرًا على ملاحظاتك!",
    expired="انتهت صلاحية هذه الإجابة — يُرجى طرح السؤال مرة أخرى.",
    unknown_button="لا أعرف هذا الزر.",
    article_gone="لم تعد هذه المقالة في الأرشيف.",
    all_shown="هذا كل ما وجدته.",
    article_above="المقالة مفتوحة في الأعلى.",
    link="الرابط",
)

GERMAN = Messages(
    building="Das Archiv wird gerade aufgebaut; fragen Sie in einer Minute noch einmal.",
    holds="Das Archiv enthält <b>{count}</b> Artikel.",
    holds_span="Das Archiv enthält <b>{count}</b> Artikel aus der Zeit von {first} bis {last}.",
    how_to_ask=(
        "Fragen Sie mich in einfachen Worten danach – zum Beispiel "
        "<i>Was hat Wang Yi über die UNO gesagt?</i> Ich antworte zuerst in einer Zeile, dann "
        "mit den Passagen, die es belegen, nach Artikeln geordnet und mit ihrer Quelle.\n\n"
        "• Im privaten Chat schreiben Sie einfach Ihre Frage.\n"
        "• In einer Gruppe nutzen Sie /ask <i>Frage</i>, erwähnen @{bot} oder antworten auf "
        "eine meiner Antworten.\n"
        "• In jedem Chat tippen Sie @{bot} <i>Frage</i>, um eine Antwort zu teilen.\n\n"
        "/sources zeigt, was das Archiv enthält."
    ),
    not_found=(
        "Ich habe im Archiv nichts gefunden, das darauf antwortet. Versuchen Sie es mit anderen "
        "Worten oder mit einem Namen, Ort oder Datum aus der gesuchten Meldung."
    ),
    uncertain="Nicht sicher, ob das die Antwort ist – der nächste Treffer, den ich gefunden habe:",
    rate_limited="Sie fragen schneller, als ich lesen kann – versuchen Sie es in {seconds} s "
    "noch einmal.",
    too_long="Entschuldigung, die Frage ist zu lang ({length} Zeichen, höchstens {limit}). "
    "Bitte kürzen Sie sie.",
    error="Entschuldigung – bei mir ist etwas schiefgegangen. Bitte versuchen Sie es gleich "
    "noch einmal.",
    more="Mehr",
    full_article="Ganzer Artikel",
    timeline="Zeitleiste",
    previous="‹ Zurück",
    next="Weiter ›",
    thanks="Danke für die Rückmeldung!",
    expired="Diese Antwort ist abgelaufen – bitte stellen Sie die Frage erneut.",
    unknown_button="Diese Schaltfläche kenne ich nicht.",
    article_gone="Dieser Artikel ist nicht mehr im Archiv.",
    all_shown="Mehr habe ich nicht gefunden.",
    article_above="Der Artikel ist oben geöffnet.",
    link="Link",
)

SPANISH = Messages(
    building="El archivo se está construyendo; vuelve a preguntar en un minuto.",
    holds="El archivo contiene <b>{count}</b> artículos.",
    holds_span="El archivo contiene <b>{count}</b> artículos, del {first} al {last}.",
    how_to_ask=(
        "Pregúntame sobre él con palabras sencillas; por ejemplo, "
        "<i>¿Qué dijo Wang Yi sobre la ONU?</i> Respondo primero en una línea y después con los "
        "pasajes que lo dicen, agrupados por artículo y con su fuente.\n\n"
        "• En un chat privado, escribe tu pregunta sin más.\n"
        "• En un grupo, usa /ask <i>pregunta</i>, menciona a @{bot} o responde a una de mis "
        "respuestas.\n"
        "• En cualquier chat, escribe @{bot} <i>pregunta</i> para compartir una respuesta.\n\n"
        "/sources muestra lo que contiene el archivo."
    ),
    not_found=(
        "No encontré nada en el archivo que responda a eso. Prueba con otras palabras, o con un "
        "nombre, lugar o fecha de la noticia que buscas."
    ),
    uncertain="No estoy seguro de que esto responda a la pregunta; es lo más cercano que encontré:",
    rate_limited="Preguntas más rápido de lo que puedo leer; vuelve a intentarlo en {seconds} s.",
    too_long="Lo siento, la pregunta es demasiado larga ({length} caracteres; el máximo es "
    "{limit}). Acórtala, por favor.",
    error="Lo siento, algo ha fallado por mi parte. Inténtalo de nuevo en un momento.",
    more="Más",
    full_article="Artículo completo",
    timeline="Cronología",
    previous="‹ Anterior",
    next="Siguiente ›",
    thanks="¡Gracias por tu opinión!",
    expired="Esta respuesta ha caducado; vuelve a hacer la pregunta.",
    unknown_button="No conozco ese botón.",
    article_gone="Ese artículo ya no está en el archivo.",
    all_shown="Eso es todo lo que encontré.",
    article_above="El artículo está abierto más arriba.",
    link="enlace",
)

FRENCH = Messages(
    building="L’archive est en cours de construction ; reposez votre question dans une minute.",
    holds="L’archive contient <b>{count}</b> articles.",
    holds_span="L’archive contient <b>{count}</b> articles, du {first} au {last}.",
    how_to_ask=(
        "Posez-moi vos questions avec des mots simples — par exemple "
        "<i>Qu’a dit Wang Yi à propos de l’ONU ?</i> Je réponds d’abord en une ligne, puis avec "
        "les passages qui le disent, regroupés par article et avec leur source.\n\n"
        "• En conversation privée, écrivez simplement votre question.\n"
        "• Dans un groupe, utilisez /ask <i>question</i>, mentionnez @{bot} ou répondez à l’une "
        "de mes réponses.\n"
        "• Dans n’importe quelle conversation, tapez @{bot} <i>question</i> pour partager une "
        "réponse.\n\n"
        "/sources montre ce que contient l’archive."
    ),
    not_found=(
        "Je n’ai rien trouvé dans l’archive qui réponde à cela. Essayez d’autres mots, ou un "
        "nom, un lieu ou une date tirés de l’article que vous cherchez."
    ),
    uncertain="Pas sûr que cela réponde à la question — voici ce que j’ai trouvé de plus proche :",
    rate_limited="Vous posez vos questions plus vite que je ne peux lire — réessayez dans "
    "{seconds} s.",
    too_long="Désolé, la question est trop longue ({length} caractères ; {limit} au maximum). "
    "Merci de la raccourcir.",
    error="Désolé — un problème est survenu de mon côté. Réessayez dans un instant.",
    more="Plus",
    full_article="Article complet",
    timeline="Chronologie",
    previous="‹ Précédent",
    next="Suivant ›",
    thanks="Merci pour votre avis !",
    expired="Cette réponse a expiré — posez la question à nouveau.",
    unknown_button="Je ne connais pas ce bouton.",
    article_gone="Cet article n’est plus dans l’archive.",
    all_shown="C’est tout ce que j’ai trouvé.",
    article_above="L’article est ouvert plus haut.",
    link="lien",
)

CATALOGUE: dict[str, Messages] = {
    "en": ENGLISH,
    "ru": RUSSIAN,
    "zh": CHINESE,
    "ar": ARABIC,
    "de": GERMAN,
    "es": SPANISH,
    "fr": FRENCH,
}


def messages_for(language: str | None) -> Messages:
    """The texts for an ISO 639-1 code or an IETF tag as Telegram clients send ("zh-hans",
    "pt-br"); English for a language without texts, or none."""
    if not language:
        return ENGLISH
    return CATALOGUE.get(language.split("-")[0].lower(), ENGLISH)
