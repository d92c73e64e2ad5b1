"""The Telegram bot: application, handlers, rendering to HTML, sessions, polling."""
