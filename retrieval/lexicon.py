"""Words the light stemmer must not cut: names and numbers whose endings look like suffixes.

Each line is one term and the spellings that mean it, as written (the analyzer normalizes them).
A word listed here is kept whole after its article and conjunction are stripped, so that
لبنان (Lebanon) does not become لبن (milk), البحرين (Bahrain) does not become البحر (the sea),
and خمسين (fifty) does not become خمس (five). Sources: the names of the Arab League members and
of countries, regions and cities in the news corpora (SaudiNewsNet, ARCD) whose stems collide
with common words; frequent Arabic personal names ending in -ان/-ين; Arabic number words.
"""

from __future__ import annotations

from typing import Final

# One term per line: the term first, then other spellings of it.
_PLACES: Final = """
لبنان
بحرين
فلسطين
سودان
ايران
يابان
يونان
باكستان
افغانستان
كازاخستان
اوزبكستان
تركمانستان
طاجيكستان
قيرغيزستان
كردستان
داغستان
اذربيجان
فاتيكان
تايوان
اسبان
طهران
اصفهان
همدان
جازان جيزان
نجران
تطوان
وهران
اسوان
حلوان
عسقلان
بيسان
صين
برلين
فلبين
ارجنتين
جنين
حطين
قزوين
بصره
قاهره
اسكندريه
كويت
"""

_NAMES: Final = """
سلمان
عثمان
سليمان
عدنان
عمران
رمضان
شعبان
مروان
حمدان
سفيان
غسان
قحطان
لقمان
عفان
ايمان
حنان
رضوان
نعمان
حسان
سلطان
ريان
كنعان
زيدان
شيبان
حسين
ياسين
امين
نسرين
شيرين
بنيامين
معين
تحسين
حنين
"""

# Tens and duals: the -ون/-ين ending is part of the number (خمسون = خمسين = 50, not خمس = 5).
_NUMBERS: Final = """
عشرين عشرون
ثلاثين ثلاثون
اربعين اربعون
خمسين خمسون
ستين ستون
سبعين سبعون
ثمانين ثمانون
تسعين تسعون
الفين الفان
مليونين مليونان
مليارين ملياران
مئتين مئتان مائتين مائتان
"""

# Feminine nouns whose stem without ة is another common word (الجامعة university, الجامع mosque).
_WHOLE: Final = """
جامعه
مدينه
"""


def protected_terms() -> dict[str, str]:
    """Raw spelling -> the term it indexes as (the first spelling on its line)."""
    terms: dict[str, str] = {}
    for block in (_PLACES, _NAMES, _NUMBERS, _WHOLE):
        for line in block.strip().splitlines():
            words = line.split()
            terms.update({word: words[0] for word in words})
    return terms
