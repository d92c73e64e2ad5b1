"""Followed topics: who follows what, which alerts went out (store), and matching newly
arrived articles against the topics (alerts). Telegram's side is bot.telegram.follow."""
