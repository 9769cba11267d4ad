"""Every Arabic string a user of the bot sees. Placeholders are filled by bot.format (escaped).

Commands and file types are wrapped in left-to-right isolates (`_ltr`) so that «/ask» does not
render as «ask/» inside Arabic text."""

from __future__ import annotations


def _ltr(text: str) -> str:
    return f"\u2066{text}\u2069"


ASK, START, HELP_COMMAND, ADD, REINDEX = (
    _ltr(c) for c in ("/ask", "/start", "/help", "/add", "/reindex")
)
LATEST = _ltr("/latest")

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
    "ويمكنك كتابة اسمي متبوعاً بسؤال في أي محادثة.\n"
    f"ولأحدث الأخبار أرسل {LATEST}، أو أتبِعه بموضوع لأحدث أخباره. "
    "وإن سألت عن «آخر» الأخبار أو أخبار «اليوم» قدّمت الأحدث أولاً.\n"
    f"ولتصلك الأخبار الجديدة عن موضوع أرسل {_ltr('/follow')} ثم الموضوع في محادثتنا الخاصة."
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
COMMAND_FEED = "مصادر الأخبار الحية RSS/Atom (للمشرفين)"
COMMAND_FOLLOW = "تابِع موضوعاً لتصلك أخباره الجديدة"
COMMAND_FOLLOWING = "المواضيع التي تتابعها"
COMMAND_UNFOLLOW = "إلغاء متابعة موضوع برقمه"

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
UNKNOWN_COMMAND = f"لا أعرف هذا الأمر. الأوامر المتاحة: {START} و{HELP_COMMAND} و{ASK} و{LATEST}."
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

# --- live feeds (admins) ------------------------------------------------------------------------
FEED = _ltr("/feed")
FEED_USAGE = (
    "الاستخدام:\n"
    f"{_ltr('/feed add URL')} [الاسم] لمتابعة مصدر RSS أو Atom\n"
    f"{_ltr('/feed list')} لعرض المصادر وحالتها\n"
    f"{_ltr('/feed remove ID')} لإيقاف متابعة مصدر (تبقى مقالاته)\n"
    f"{_ltr('/feed poll')} لجلب الجديد الآن"
)
FEED_REMOVE_USAGE = f"اكتب رقم المصدر بعد الأمر، مثلاً: {_ltr('/feed remove 3')}"
FEED_ADDED = "✅ أضيف المصدر {feed_id}: <b>{name}</b>\n{url}\n⏳ أجلبه الآن…"
FEED_ADD_FAILED = "⚠️ لم يُضف المصدر: {reason}"
FEED_REMOVED = "🗑 أوقفت متابعة المصدر {feed_id}. تبقى مقالاته في المكتبة."
FEED_MISSING = "لا يوجد مصدر بالرقم {feed_id}."
FEED_NONE = f"لا توجد مصادر بعد. أضف واحداً بـ {_ltr('/feed add URL')}"
FEED_POLLING = "⏳ أجلب الجديد من المصادر…"
FEED_LIST_HEADER = "📡 <b>المصادر</b>"
FEED_LIST_ITEM = "{feed_id}. <b>{name}</b> — {url}"
FEED_LIST_STATE = "آخر جلب: {polled} · عناصر: {items} · مقالات: {articles}"
FEED_LIST_ERROR = "⚠️ آخر خطأ: {error}\nمحاولات فاشلة متتالية: {times} · المحاولة التالية: {retry}"
FEED_NEVER = "لم يُجلب بعد"
FEED_NEXT_ROUND = "في الجولة القادمة"
# after قبل / بعد the dual is genitive: قبل ساعتين، بعد يومين
MINUTES_AGO = ("قبل دقيقة", "قبل دقيقتين", "قبل {n} دقائق", "قبل {n} دقيقة")
HOURS_AGO = ("قبل ساعة", "قبل ساعتين", "قبل {n} ساعات", "قبل {n} ساعة")
MINUTES_IN = ("بعد دقيقة", "بعد دقيقتين", "بعد {n} دقائق", "بعد {n} دقيقة")
HOURS_IN = ("بعد ساعة", "بعد ساعتين", "بعد {n} ساعات", "بعد {n} ساعة")
DAYS_IN = ("بعد يوم", "بعد يومين", "بعد {n} أيام", "بعد {n} يوماً")
FEED_POLL_DONE = "📡 {name}: عناصر {entries} · جديدة {new} · مقالات أضيفت {added}"
FEED_POLL_UNCHANGED = "📡 {name}: لا جديد منذ آخر جلب"
FEED_POLL_ERROR = "⚠️ {name}: {error}"
FEED_POLL_BUSY = "⏳ {name}: يجلبه الآن خادم آخر"
FEED_POLL_SUMMARIES = "ℹ️ {count} منها من ملخص المصدر (تعذّرت قراءة صفحة المقال)"
FEED_POLL_FAILED = "• {url}: {error}"
FEED_POLL_WARNING = "ℹ️ في المصدر أخطاء تجاوزتها: {warning}"

# --- following topics ---------------------------------------------------------------------------
FOLLOW, UNFOLLOW = _ltr("/follow"), _ltr("/unfollow")
FOLLOW_USAGE = (
    f"اكتب الموضوع بعد الأمر، مثلاً: {_ltr('/follow')} الهجرة غير الشرعية\n"
    "وسأرسل إليك كل خبر جديد عنه."
)
FOLLOW_PRIVATE_ONLY = "المتابعة في المحادثة الخاصة معي فقط، حتى تصلك التنبيهات وحدك."
FOLLOW_DONE = "🔔 تتابع الآن: «{topic}». سأرسل إليك الأخبار الجديدة عنه، بحد أقصى {limit} في اليوم."
FOLLOW_ALREADY = "أنت تتابع «{topic}» بالفعل."
FOLLOW_TOO_MANY = "تتابع {limit} مواضيع، وهو الحد الأقصى. ألغِ متابعة أحدها أولاً بـ {command}."
FOLLOW_TOO_LONG = "الموضوع أطول من {limit} حرف. اختصره في كلمات قليلة من فضلك."
FOLLOWING_NONE = f"لا تتابع أي موضوع. ابدأ بـ {_ltr('/follow')} ثم الموضوع."
FOLLOWING_HEADER = "🔔 المواضيع التي تتابعها:"
FOLLOWING_ITEM = "{number}. {topic}"
FOLLOWING_FOOTER = f"لإلغاء متابعة موضوع: {_ltr('/unfollow')} ورقمه."
UNFOLLOW_USAGE = (
    f"اكتب رقم الموضوع بعد الأمر، مثلاً: {_ltr('/unfollow 1')} (الأرقام في {_ltr('/following')})."
)
UNFOLLOW_DONE = "🔕 ألغيت متابعة «{topic}»."
UNFOLLOW_MISSING = f"لا يوجد موضوع بهذا الرقم. انظر {_ltr('/following')}."
ALERT_HEADER = "🔔 خبر جديد عن «{topic}»:"
BUTTON_UNFOLLOW = "🔕 إيقاف متابعة «{topic}»"
TOAST_UNFOLLOWED = "ألغيت المتابعة."

# --- the newest news (questions asking for the latest; /latest) --------------------------------
COMMAND_LATEST = "أحدث الأخبار، أو أحدثها عن موضوع"
RECENT_HEADER = "🕒 الأحدث أولاً{end}:"
RECENT_MISSED = "🕒 لم أجد عن هذا شيئاً في أخبار {period}{end}. الأحدث أولاً:"
ARCHIVE_END = " (أخباري تنتهي في {date})"  # an archive: "today" is its newest article's day
LATEST_HEADER = "🗞 أحدث الأخبار{about}{end}:"
LATEST_IN = "🗞 أخبار {period}{about}{end}:"
LATEST_MISSED = "🗞 لا شيء{about} في أخبار {period}{end}. الأحدث:"
LATEST_ABOUT = " عن «{topic}»"
LATEST_NONE = f"لم أجد أخباراً عن «{{topic}}». جرّب كلمات أخرى، أو {LATEST} وحده لأحدث الأخبار."
# How old an article is; after «قبل» the dual is genitive (يومين) and 11+ take the accusative.
AGE_TODAY = "اليوم"
AGE_YESTERDAY = "أمس"
DAYS_AGO = ("قبل يوم", "قبل يومين", "قبل {n} أيام", "قبل {n} يوماً")
WEEKS_AGO = ("قبل أسبوع", "قبل أسبوعين", "قبل {n} أسابيع", "قبل {n} أسبوعاً")
MONTHS_AGO = ("قبل شهر", "قبل شهرين", "قبل {n} أشهر", "قبل {n} شهراً")
YEARS_AGO = ("قبل سنة", "قبل سنتين", "قبل {n} سنوات", "قبل {n} سنة")
# The window a question named, after «أخبار»: «أخبار اليوم»، «أخبار آخر 3 أيام»
PERIOD_TODAY = "اليوم"
PERIOD_YESTERDAY = "أمس"
PERIOD_DAY_BEFORE = "أول أمس"
PERIOD_THIS_WEEK = "هذا الأسبوع"
PERIOD_LAST_WEEK = "الأسبوع الماضي"
PERIOD_THIS_MONTH = "هذا الشهر"
PERIOD_LAST_MONTH = "الشهر الماضي"
PERIOD_THIS_YEAR = "هذا العام"
PERIOD_LAST_YEAR = "العام الماضي"
PERIOD_LAST_DAYS = ("آخر يوم", "آخر يومين", "آخر {n} أيام", "آخر {n} يوماً")
PERIOD_LAST_HOURS = ("آخر ساعة", "آخر ساعتين", "آخر {n} ساعات", "آخر {n} ساعة")
