"""Every Arabic string a user of the bot sees. Placeholders are filled by bot.format (escaped).

Commands and file types are wrapped in left-to-right isolates (`_ltr`) so that «/ask» does not
render as «ask/» inside Arabic text."""

from __future__ import annotations


def _ltr(text: str) -> str:
    return f"\u2066{text}\u2069"


ASK, START, HELP_COMMAND, ADD, REINDEX = (
    _ltr(c) for c in ("/ask", "/start", "/help", "/add", "/reindex")
)

# --- welcome and help -------------------------------------------------------------------------
WELCOME = (
    "أهلاً بك في <b>سَنَد</b> 👋\nاسألني بالعربية عن الأخبار، وسأجيبك بمقاطع من المقالات مع مصادرها."
)
KNOWLEDGE = "أعرف مقالات عددها {articles}، من مصادر عددها {sources}"
KNOWLEDGE_RANGE = "، منشورة بين {first} و{last}"
KNOWLEDGE_SOURCES = "المصادر: {names}"
HELP = (
    "اكتب سؤالك في رسالة، وسأرد بأفضل المقاطع: الجملة الأقرب إلى الجواب بخط عريض، "
    "ثم عنوان المقال ومصدره وتاريخه.\n"
    f"في المجموعات: استخدم {ASK} متبوعاً بسؤالك، أو اذكرني، أو رُدّ على إحدى رسائلي.\n"
    "ويمكنك كتابة اسمي متبوعاً بسؤال في أي محادثة."
)
EXAMPLES_TITLE = "جرّب أحد هذه الأسئلة:"
EXAMPLE_QUESTIONS = (
    "ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟",
    "كم بلغ سعر برميل النفط؟",
    "كم سيغيب سامي خضيرة عن الملاعب؟",
)
INDEX_EMPTY = "لا توجد مقالات في المكتبة بعد."

# --- bot commands (shown in Telegram's menu) --------------------------------------------------
COMMAND_START = "البداية وأمثلة على الأسئلة"
COMMAND_HELP = "طريقة الاستخدام"
COMMAND_ASK = "اطرح سؤالاً (في المجموعات)"
COMMAND_ADD = "إضافة مقال أو ملف (للمشرفين)"
COMMAND_DELETE = "حذف مقال برقمه (للمشرفين)"
COMMAND_REINDEX = "إعادة بناء الفهرس (للمشرفين)"
COMMAND_STATS = "إحصاءات (للمشرفين)"

# --- answers ----------------------------------------------------------------------------------
ANSWER_HEADER = "🔎 أفضل ما وجدته:"
ANSWER_PAGE_HEADER = "🔎 النتائج من {first} إلى {last}:"
QUESTION_TRUNCATED = "ℹ️ سؤالك أطول من {limit} حرف، فبحثت بأوله فقط."
ALSO_PUBLISHED = "نُشر أيضاً في: {sources}"
NO_ANSWER = "لم أجد في المقالات ما يجيب عن سؤالك بدقة كافية، ولا أريد أن أقدّم لك مقاطع ضعيفة الصلة."
NO_ANSWER_CLOSEST = "أقرب المقالات إلى سؤالك:"
NO_ANSWER_NOTHING = (
    "ولا أجد مقالات في موضوعه. جرّب أن تسأل عن خبر بعينه وتذكر الشخص أو الجهة أو المكان، "
    "مثلاً: «{example}»"
)
NO_MORE_RESULTS = "لا توجد نتائج أخرى ذات صلة."
UNTITLED = "(بلا عنوان)"

# --- buttons ----------------------------------------------------------------------------------
BUTTON_MORE = "المزيد ⬅️"
BUTTON_PREVIOUS = "➡️ السابق"
BUTTON_FULL_TEXT = "📄 {title}"  # the article's short title
BUTTON_HELPFUL = "👍"
BUTTON_UNHELPFUL = "👎"

# --- toasts (answers to button presses) -------------------------------------------------------
TOAST_THANKS_HELPFUL = "شكراً لك! سعيد بأن الإجابة أفادتك."
TOAST_THANKS_UNHELPFUL = "شكراً لك! سنعمل على تحسين الإجابات."
TOAST_STALE = "انتهت صلاحية هذا الزر. أرسل سؤالك من جديد من فضلك."
TOAST_INVALID = "هذا الزر غير صالح."
TOAST_ARTICLE_GONE = "هذا المقال لم يعد موجوداً في المكتبة."
TOAST_NO_MORE = "لا توجد نتائج أخرى."
TOAST_RATE_LIMITED = "مهلاً قليلاً من فضلك، ثم حاول مجدداً."
TOAST_BUSY = "الأسئلة كثيرة الآن. حاول بعد قليل من فضلك."

# --- full article -----------------------------------------------------------------------------
ARTICLE_PART = "(الجزء {part} من {parts})"

# --- bad input --------------------------------------------------------------------------------
EMPTY_QUESTION = "لم أجد في رسالتك كلمات أبحث بها. اكتب سؤالك بالكلمات من فضلك، مثلاً: {example}"
ASK_USAGE = f"اكتب سؤالك بعد الأمر، مثلاً: {ASK} {{example}}"
TEXT_ONLY = "أفهم الأسئلة المكتوبة فقط. اكتب سؤالك نصاً من فضلك."
EDITED_MESSAGE = "لاحظت أنك عدّلت رسالتك. أرسل السؤال المعدّل في رسالة جديدة لأبحث عنه."
UNKNOWN_COMMAND = f"لا أعرف هذا الأمر. الأوامر المتاحة: {START} و{HELP_COMMAND} و{ASK}."
FILES_ADMINS_ONLY = "إضافة الملفات إلى المكتبة متاحة للمشرفين فقط. يمكنك أن تسألني نصاً."
RATE_LIMITED = "أرسلت أسئلة كثيرة في وقت قصير. انتظر {seconds} ثم أعد المحاولة من فضلك."
NOT_READY = "المكتبة تُجهَّز الآن. حاول بعد قليل من فضلك."
SEARCH_FAILED = "تعذّر البحث الآن. حاول بعد قليل من فضلك."
# The database cannot be reached (bot/records.is_outage): nothing was done or saved.
STORE_UNAVAILABLE = "⚠️ تعذّر الوصول إلى قاعدة البيانات الآن. أعد المحاولة بعد لحظات."
TOAST_STORE_UNAVAILABLE = "قاعدة البيانات غير متاحة الآن. أعد المحاولة بعد لحظات."
ADD_STORE_UNAVAILABLE = "⚠️ لم يُضف شيء: قاعدة البيانات غير متاحة الآن. أعد إرسال الأمر بعد لحظات."
# Past capacity (bot/searches.py): a question that will wait is told so; one that cannot be taken
# is refused, never dropped in silence. The prefixes let a load benchmark tell them apart.
DELAYED_PREFIX = "⏳"
DELAYED = DELAYED_PREFIX + " تصلني أسئلة كثيرة الآن؛ سأجيبك خلال {seconds} تقريباً."
BUSY_PREFIX = "🚦"
BUSY = (
    BUSY_PREFIX + " الأسئلة كثيرة جداً الآن فلم أستطع قبول سؤالك. أعد إرساله بعد {seconds} من فضلك."
)
ERROR_APOLOGY = "عذراً، حدث خطأ غير متوقع. حاول مرة أخرى بعد قليل."

# --- admin ------------------------------------------------------------------------------------
ADMINS_ONLY = "هذا الأمر متاح للمشرفين فقط."
ADD_USAGE = (
    f"لإضافة مقال: أرسل ملف {_ltr('.txt')} أو {_ltr('.md')} أو {_ltr('.jsonl')} مع التعليق "
    f"{ADD}، أو رُدّ على الملف بـ {ADD}، أو اكتب {ADD} ثم العنوان في السطر الأول والنص بعده."
)
ADD_UNSUPPORTED_FILE = (
    f"نوع الملف غير مدعوم. الأنواع المقبولة: {_ltr('.txt')} و{_ltr('.md')} و{_ltr('.jsonl')}"
)
ADD_FILE_TOO_BIG = "الملف أكبر من الحد المسموح ({megabytes} ميغابايت)."
ADD_DOCUMENT_HINT = f"لإضافة هذا الملف إلى المكتبة أرسله مع التعليق {ADD} أو رُدّ عليه بـ {ADD}."
ADD_WORKING = "⏳ أضيف المقالات وأحدّث الفهرس…"
ADD_ADDED = "✅ أضيف: {count} ({ids})"
ADD_UPDATED = "🔄 حُدّث: {count} ({ids})"
ADD_UNCHANGED = "▫️ دون تغيير: {count}"
ADD_REJECTED = "⚠️ رُفض: {count}"
ADD_NOTED = "ℹ️ حُفظ مع ملاحظات: {count}"
ADD_PROBLEM = "• {where}: {reason}"
ADD_NOTHING = "لم يُضف شيء."
ADD_INDEXED = "الفهرس محدَّث، ويمكن السؤال عن المقالات الجديدة الآن."
ADD_INDEX_LATER = "حُفظت المقالات، وستُفهرس عند انتهاء إعادة البناء الجارية."
DELETE_USAGE = f"اكتب رقم المقال بعد الأمر، مثلاً: {_ltr('/delete 12')}"
DELETE_DONE = "🗑 حُذف المقال {article_id}. لن يظهر في النتائج بعد الآن."
DELETE_MISSING = "لا يوجد مقال بالرقم {article_id}."
REINDEX_STARTED = "⏳ بدأت إعادة بناء الفهرس. سأواصل الإجابة عن الأسئلة من الفهرس الحالي حتى تنتهي."
REINDEX_PROGRESS = (
    "⏳ إعادة بناء الفهرس: المقاطع المنجزة {done} من {total} ({percent}%)، "
    "بمعدل {rate} مقطع في الثانية، والوقت المتبقي {left} تقريبًا"
)
REINDEX_USAGE = (
    f"الاستخدام: {REINDEX} لإعادة بناء الفهرس من المتجهات المحفوظة، "
    f"أو {_ltr('/reindex full')} لإعادة حساب متجهات كل المقاطع (أبطأ بكثير)."
)
# Arabic counted nouns: 1, 2, 3-10 and 11+ take different forms (ثانية، ثانيتان، ثوانٍ، ثانية).
SECONDS = ("ثانية واحدة", "ثانيتان", "{n} ثوانٍ", "{n} ثانية")
MINUTES = ("دقيقة واحدة", "دقيقتان", "{n} دقائق", "{n} دقيقة")
HOURS = ("ساعة واحدة", "ساعتان", "{n} ساعات", "{n} ساعة")
REINDEX_DONE = (
    "✅ اكتملت إعادة بناء الفهرس: الإصدار {version}، وعدد المقاطع {passages}، "
    "والمدة {seconds} ثانية. الفهرس الجديد يعمل الآن."
)
REINDEX_BUSY = "إعادة بناء الفهرس جارية بالفعل. انتظر حتى تنتهي من فضلك."
REINDEX_FAILED = "❌ تعذّرت إعادة بناء الفهرس، وما زال الفهرس السابق يعمل."
STATS = (
    "📊 <b>إحصاءات سَنَد</b>\n"
    "المقالات: {articles}\n"
    "المقاطع: {passages} (في الفهرس: {indexed})\n"
    "الفهرس: الإصدار {version}، بُني في {built_at}{stale}\n"
    "الأسئلة اليوم: {today}، والإجمالي: {total}\n"
    "زمن الإجابة: الوسيط {median} مللي ثانية، والمئين 95: {p95} مللي ثانية\n"
    "التقييمات: 👍 {helpful} و👎 {unhelpful}"
)
STATS_STALE = " (يحتاج إلى تحديث)"
STATS_NONE = "—"

MONTHS = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
)
