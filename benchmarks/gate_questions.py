"""Labelled questions over the bundled corpus for calibrating the answer gate (benchmarks/gate.py).

Each item: (question, kind, fragments). `fragments` are parts of the titles of the articles that
answer it; empty for questions the corpus cannot answer. Kinds: full (a whole Arabic question),
short (a name or two words), dialect (Gulf, Levantine, Egyptian, Iraqi), english. Written by
hand for this project; items alternate train / test by position within each kind.
"""

from __future__ import annotations

from benchmarks.relevance_threshold import IN_CORPUS, OUT_OF_CORPUS

Item = tuple[str, str, tuple[str, ...]]

ANSWERABLE: list[Item] = [
    *((q, "full", (t,)) for q, t in IN_CORPUS),
    ("ما الذي يطالب به وزير البلديات لخدمة الحجاج؟", "full", ("وزير البلديات",)),
    ("كم وظيفة طرحت غرفة نجران؟", "full", ("غرفة نجران",)),
    ("ماذا اكتشف المهندس السعودي بشأن الطائرة الماليزية؟", "full", ("الطائر الماليزية",)),
    ("كم تبرعت شركات التأمين لتعويضات الأضرار؟", "full", ("شركات التأمين",)),
    ("ما الشركة القابضة التي أسستها جوجل؟", "full", ("ألفابت",)),
    ("من يقترب مانشستر سيتي من ضمه؟", "full", ("دي بروين",)),
    ("ما الذي تحتوي عليه ثمرة الكيوي؟", "full", ("الكيوي",)),
    ("كم بئرا ستحفر في التعاون السعودي المصري؟", "full", ("1200 بئر",)),
    # short and name-only
    ("كازورلا", "short", ("آرسنال يمدد",)),
    ("مالطا", "short", ("تعاون أمني",)),
    ("دوابشة", "short", ("الرضيع", "رضيع")),
    ("خضيرة", "short", ("خضيرة",)),
    ("واكاسو", "short", ("واكاسو",)),
    ("ضمد", "short", ("ضمد",)),
    ("العبادي", "short", ("العبادي",)),
    ("الحشد الشعبي", "short", ("العبادي",)),
    ("غوانتنامو", "short", ("غوانتنامو",)),
    ("الأسد سيسل", "short", ("سيسل",)),
    ("ماش دونالدز", "short", ("ماش دونالدز",)),
    ("فيفا 16", "short", ("فيفا 16",)),
    ("الإنتربول", "short", ("إنتربول",)),
    ("الروهنجي", "short", ("الروهنجي",)),
    ("سناب شات", "short", ("سناب شات", "السناب شات")),
    ("ألفابت", "short", ("ألفابت",)),
    ("دي بروين", "short", ("دي بروين",)),
    ("زنجبار", "short", ("زنجبار",)),
    ("أوتويا", "short", ("أوتويا",)),
    ("مونتاري", "short", ("مونتاري",)),
    # dialect
    ("شو صار بين مصر والسودان؟", "dialect", ("القاهرة تنفي",)),
    ("ايش سعر برميل النفط الحين؟", "dialect", ("النفط",)),
    ("وش صار في ضمد مع الأمطار؟", "dialect", ("ضمد",)),
    ("كم راح يغيب خضيرة عن الملاعب؟", "dialect", ("خضيرة",)),
    ("ليش العبادي زعلان من الأحزاب؟", "dialect", ("العبادي",)),
    ("وين بيسوون محطة الكهرباء بالطاقة الشمسية؟", "dialect", ("العواجي",)),
    ("شلون صار الحريق في بيت بنجران؟", "dialect", ("مدني نجران",)),
    ("مين اللي رأس مجلس الوزراء بغياب الملك؟", "dialect", ("أحفاد الملك", "يرأس جلسة")),
    ("هو صحيح إنو القعدة الطويلة بتجيب السكري؟", "dialect", ("الجلوس",)),
    ("قديش راتب والكوت بالأسبوع؟", "dialect", ("آرسنال",)),
    ("إيه اللي حصل بين قوات صالح والحوثيين؟", "dialect", ("اقتتال",)),
    ("كم طفل شاركوا في قطار القراءة بالرياض؟", "dialect", ("قطار القراءة",)),
    # English over the Arabic corpus
    ("What did Libya and Malta agree on regarding illegal migration?", "english", ("تعاون أمني",)),
    ("How much does Walcott earn per week at Arsenal?", "english", ("آرسنال",)),
    ("How long will Sami Khedira be out injured?", "english", ("خضيرة",)),
    ("Who will play in the German Super Cup?", "english", ("بايرن",)),
    ("Does sitting for long periods cause diabetes?", "english", ("الجلوس",)),
    ("What happened between Saleh's forces and the Houthis in Sanaa?", "english", ("اقتتال",)),
    ("How many new coronavirus cases were recorded?", "english", ("كورونا",)),
    ("How did Bahrain react to the burning of the Palestinian baby?", "english", ("البحرين",)),
    ("What did Saudi Arabia and Jordan agree on?", "english", ("السعودية والأردن",)),
    ("Which Ghanaian player is about to join Al-Ittihad?", "english", ("واكاسو",)),
    ("How much desalinated water does the Kingdom produce?", "english", ("المياه المحلاة",)),
    ("What did the Basra local government refuse?", "english", ("البصرة",)),
    ("What aircraft did Saudi Airlines add to its fleet?", "english", ("بوينج",)),
    ("What is the new holding company of Google called?", "english", ("ألفابت",)),
    ("How much did insurance companies pay in compensation?", "english", ("شركات التأمين",)),
    ("Why did oil prices rise above 50 dollars a barrel?", "english", ("النفط يرتفع",)),
]

UNANSWERABLE: list[Item] = [
    *((q, "full", ()) for q in OUT_OF_CORPUS),
    ("ما هي أسعار الشقق في إسطنبول هذا العام؟", "full", ()),
    ("كيف أحجز موعدا في السفارة الكندية؟", "full", ()),
    ("من فاز بجائزة نوبل للأدب عام 2016؟", "full", ()),
    ("ما نتيجة مباراة ريال مدريد وبرشلونة الأخيرة؟", "full", ()),
    # short and name-only
    ("ميسي", "short", ()),
    ("طوكيو", "short", ()),
    ("البيتكوين", "short", ()),
    ("نيوزيلندا", "short", ()),
    ("تسلا", "short", ()),
    ("الأوسكار", "short", ()),
    ("نتفليكس", "short", ()),
    ("إيبولا", "short", ()),
    ("زلزال تركيا", "short", ()),
    ("بوكيمون", "short", ()),
    ("الميتافيرس", "short", ()),
    ("شات جي بي تي", "short", ()),
    # dialect
    ("شلون أسوي كبسة دجاج؟", "dialect", ()),
    ("وش أحسن جوال هالسنة؟", "dialect", ()),
    ("شو أحسن مطعم بدبي؟", "dialect", ()),
    ("ليش السما زرقا؟", "dialect", ()),
    ("وين ألاقي شقة رخيصة في جدة؟", "dialect", ()),
    ("إزاي أعمل كيكة شوكولاتة؟", "dialect", ()),
    ("قديش بتكلف رحلة لتركيا؟", "dialect", ()),
    ("منو أحسن لاعب بالعالم هسه؟", "dialect", ()),
    # English
    ("How do I bake sourdough bread?", "english", ()),
    ("What is the capital of Australia?", "english", ()),
    ("Who won the 2022 World Cup?", "english", ()),
    ("How does a nuclear reactor work?", "english", ()),
    ("What are the symptoms of vitamin D deficiency?", "english", ()),
    ("How do I learn to play the guitar?", "english", ()),
    ("What is the tallest building in the world?", "english", ()),
    ("Who wrote War and Peace?", "english", ()),
    ("How do I reset my iPhone?", "english", ()),
    ("What is the best programming language for beginners?", "english", ()),
]


def split(items: list[Item], part: str) -> list[Item]:
    """Every other item of each kind: "train" the even ones, "test" the odd ones."""
    seen: dict[str, int] = {}
    out = []
    for item in items:
        index = seen.get(item[1], 0)
        seen[item[1]] = index + 1
        if (index % 2 == 0) == (part == "train"):
            out.append(item)
    return out
