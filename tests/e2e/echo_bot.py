"""A minimal python-telegram-bot 22 bot that exercises the emulator; not part of Sanad.

Environment: TELEGRAM_BOT_TOKEN, TELEGRAM_BASE_URL (the emulator's base URL), and
ECHO_BOT_WEBHOOK_PORT to run with a webhook instead of long polling.
"""

import html
import logging
import os

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

logger = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("start", "ابدأ"),
    BotCommand("bad_html", "أرسل HTML غير صالح"),
    BotCommand("too_long", "أرسل رسالة أطول من 4096 حرفًا"),
]


async def post_init(application: Application) -> None:
    """Publish the command menu."""
    await application.bot.set_my_commands(COMMANDS)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet."""
    await update.message.reply_text("أهلاً! أرسل أي نص وسأعيده إليك.")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo text in bold HTML with an inline keyboard, after a typing action."""
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("كبّر", callback_data="upper"),
                InlineKeyboardButton("المصدر", url="https://example.com/"),
            ]
        ]
    )
    text = f"<b>صدى:</b> {html.escape(update.message.text)}"
    await update.message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def group_mention(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only messages that mention the bot."""
    if f"@{context.bot.username}" in update.message.text:
        await update.message.reply_text("نعم؟")


async def upper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the button press and edit the message in place (dropping the keyboard)."""
    query = update.callback_query
    await query.answer("تم")
    await query.edit_message_text(
        f"<i>{html.escape(query.message.text.upper())}</i>", parse_mode=ParseMode.HTML
    )


async def bad_html(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send broken HTML and report Telegram's refusal."""
    try:
        await update.message.reply_text("<b>غير مغلق", parse_mode=ParseMode.HTML)
    except BadRequest as exc:
        await update.message.reply_text(f"rejected: {exc.message}")


async def too_long(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send 4097 characters and report Telegram's refusal."""
    try:
        await update.message.reply_text("ب" * 4097)
    except BadRequest as exc:
        await update.message.reply_text(f"rejected: {exc.message}")


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download an uploaded document and send it back."""
    doc = update.message.document
    data = await (await doc.get_file()).download_as_bytearray()
    await update.message.reply_document(
        bytes(data), filename=f"echo-{doc.file_name}", caption=f"{len(data)} bytes"
    )


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledge an edited message."""
    await update.edited_message.reply_text(f"عُدّلت: {update.edited_message.text}")


async def inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the query back as one article."""
    query = update.inline_query.query
    article = InlineQueryResultArticle(
        id="1", title=query, input_message_content=InputTextMessageContent(query)
    )
    await update.inline_query.answer([article], cache_time=0)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every unexpected error."""
    logger.error("update failed", exc_info=context.error)


def build(token: str, base_url: str) -> Application:
    """The application with its handlers, pointed at ``base_url``."""
    application = (
        Application.builder()
        .token(token)
        .base_url(f"{base_url}/bot")
        .base_file_url(f"{base_url}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(post_init)
        .build()
    )
    text = filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("bad_html", bad_html))
    application.add_handler(CommandHandler("too_long", too_long))
    application.add_handler(MessageHandler(text & filters.ChatType.PRIVATE, echo))
    application.add_handler(MessageHandler(text & filters.ChatType.GROUPS, group_mention))
    application.add_handler(MessageHandler(filters.Document.ALL, document))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, edited))
    application.add_handler(CallbackQueryHandler(upper, pattern="^upper$"))
    application.add_handler(InlineQueryHandler(inline))
    application.add_error_handler(on_error)
    return application


def main() -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s", level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # request URLs carry the token
    application = build(os.environ["TELEGRAM_BOT_TOKEN"], os.environ["TELEGRAM_BASE_URL"])
    port = os.environ.get("ECHO_BOT_WEBHOOK_PORT")
    if port:
        application.run_webhook(
            listen="127.0.0.1",
            port=int(port),
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="e2e-secret",
        )
    else:
        application.run_polling()


if __name__ == "__main__":
    main()
