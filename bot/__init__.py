"""Sanad in Telegram: answers Arabic questions with cited passages (run with run_bot.py)."""
