"""newsdesk's front ends: the command line, settings, rendering and the Telegram bot."""
