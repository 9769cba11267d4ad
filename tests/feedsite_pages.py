"""The test news site's articles and HTML pages: the bundled demo articles in three layouts,
each wrapped in the clutter of a real Arabic news site (menus, cookie banner, share buttons,
related links, ads, comments, scripts, newsletter, footer). Pure: no I/O but reading the JSONL.

Every clutter string a page shows is recorded as it is rendered (`Page.clutter`), so a benchmark
can check that none of it leaked into the text extracted from the page.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import escape as e
from pathlib import Path

from corpus import BUNDLED_CORPUS
from corpus.boilerplate import MIN_ARTICLES, candidate_shapes, shape_key, strip_boilerplate
from corpus.split import clean_text, split_sentences

DEMO = BUNDLED_CORPUS / "saudinewsnet_demo200.jsonl"
# SaudiNewsNet dates carry no offset; they are read as Saudi local time (UTC+3).
RIYADH = timezone(timedelta(hours=3), "AST")
SITE_NAME = "صحيفة سند الإخبارية"
# Lines longer than this are cut into paragraphs of whole sentences, as a site's editor would:
# 25 bodies of the demo file are one line of up to 733 words.
PARAGRAPH_WORDS = 80
SUMMARY_WORDS = 40
LAYOUTS = 3

NAV = ("الرئيسية", "محليات", "سياسة", "اقتصاد", "رياضة", "ثقافة وفنون", "مقالات الرأي", "منوعات")
COOKIE = (
    "نستخدم ملفات تعريف الارتباط (الكوكيز) لتحسين تجربتك على موقعنا وتحليل حركة الزيارات، "
    "وبمواصلة التصفح فإنك توافق على سياسة الخصوصية الخاصة بنا."
)
SHARE = ("شارك على فيسبوك", "شارك على تويتر", "أرسل عبر واتساب", "نسخ الرابط")
AD = "إعلان ممول: احصل على خصم خمسين بالمئة على باقات الإنترنت المنزلي لفترة محدودة"
COMMENTS = (
    ("أبو فهد", "خبر مهم جداً، نتمنى أن نرى المزيد من هذه المبادرات في جميع مناطق المملكة."),
    ("نورة العتيبي", "أتفق مع ما جاء في الخبر، لكن العبرة بالتنفيذ على أرض الواقع والمتابعة."),
    ("محمد الشهري", "شكراً للصحيفة على التغطية المتميزة والسريعة، بارك الله فيكم."),
    ("زائر", "لماذا لا تذكرون التفاصيل كاملة؟ القارئ يحتاج إلى معلومات أكثر من ذلك بكثير."),
    ("سارة القحطاني", "موضوع يستحق النقاش، وأتمنى أن يستمع المسؤولون لآراء المواطنين فيه."),
    ("عبدالله", "للأسف نفس الكلام يتكرر كل سنة دون أي تغيير ملموس على الأرض."),
)
AUTHOR_BIO = (
    "محرر في قسم الأخبار المحلية، يغطي شؤون المناطق والخدمات البلدية منذ عام 2009، "
    "وحاصل على جائزة التميز الصحفي عن تحقيقاته الميدانية."
)
NEWSLETTER = "اشترك في النشرة البريدية ليصلك ملخص أهم الأخبار كل صباح"
FOOTER = ("من نحن", "اتصل بنا", "أعلن معنا", "سياسة الخصوصية", "شروط الاستخدام")
COPYRIGHT = f"جميع الحقوق محفوظة © 2015 {SITE_NAME}"
SCRIPT = (
    "window.dataLayer = window.dataLayer || [];"
    'function copyLink() { navigator.clipboard.writeText(location.href); alert("{}"); }'
)
COPIED = "تم نسخ الرابط إلى الحافظة"
DAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
          "أكتوبر", "نوفمبر", "ديسمبر")  # fmt: skip


@dataclass(frozen=True)
class DemoArticle:
    """A demo article as the site publishes it: `paragraphs` are the <p> of its body."""

    slug: str
    title: str
    source: str
    published: datetime  # aware, Saudi local time
    paragraphs: tuple[str, ...]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def summary(self) -> str:
        """The feed's description: the first sentences, cut at `SUMMARY_WORDS` words."""
        words = self.paragraphs[0].split()
        return " ".join(words[:SUMMARY_WORDS]) + (" …" if len(words) > SUMMARY_WORDS else "")

    @property
    def first_sentence(self) -> str:
        """The first sentence of the first paragraph (`corpus.split.split_sentences`)."""
        start, end = split_sentences(self.paragraphs[0])[0]
        return self.paragraphs[0][start:end]

    @property
    def last_sentence(self) -> str:
        """The last sentence of the last paragraph."""
        start, end = split_sentences(self.paragraphs[-1])[-1]
        return self.paragraphs[-1][start:end]


@dataclass(frozen=True)
class Page:
    """A rendered page and the clutter strings it shows around the article."""

    html: str
    clutter: tuple[str, ...]


def load_articles(path: Path = DEMO) -> list[DemoArticle]:
    """The articles of a SaudiNewsNet-style JSONL file, bodies cleaned as ingest cleans them
    (`clean_text`, then the site boilerplate that repeats across a source's articles or shows
    by its form is dropped: share lines belong around the article, not in it)."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    # "\xa0 \xa0" separates paragraphs in some sources; clean_text would fold it into a space.
    bodies = [clean_text(item["text"].replace("\xa0 \xa0", "\n")) for item in items]
    titles = [clean_text(item["title"]) for item in items]
    counts: Counter[str] = Counter()
    for item, body, title in zip(items, bodies, titles, strict=True):
        counts.update({shape_key(item["source"], s) for s in candidate_shapes(body, title)})
    articles = []
    for item, body, title in zip(items, bodies, titles, strict=True):
        source: str = item["source"]

        def repeated(shape: str, source: str = source) -> bool:
            return counts[shape_key(source, shape)] >= MIN_ARTICLES

        kept = strip_boilerplate(body, title, repeated).body
        published = datetime.fromisoformat(item["date"]).replace(tzinfo=RIYADH)
        articles.append(DemoArticle(item["id"], title, source, published, _paragraphs(kept)))
    return articles


def _paragraphs(body: str) -> tuple[str, ...]:
    paragraphs: list[str] = []
    for line in filter(None, (line.strip() for line in body.split("\n"))):
        chunk: list[str] = []
        for start, end in split_sentences(line):
            chunk.append(line[start:end])
            if sum(len(s.split()) for s in chunk) >= PARAGRAPH_WORDS:
                paragraphs.append(" ".join(chunk))
                chunk = []
        if chunk:
            paragraphs.append(" ".join(chunk))
    return tuple(paragraphs)


class _Chrome:
    """Escapes a clutter string for HTML and records it."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, text: str) -> str:
        self.seen.append(text)
        return e(text)


def layout_of(slug: str) -> int:
    """Which of the `LAYOUTS` templates a page uses (stable per slug)."""
    return zlib.crc32(slug.encode()) % LAYOUTS


def render_page(
    article: DemoArticle, others: Sequence[DemoArticle], charset: str | None = "utf-8"
) -> Page:
    """The article's page; `others` (two or more) give the related and "most read" titles.
    `charset` goes in a <meta> tag (`None`: none, the Content-Type header must say it)."""
    c = _Chrome()
    layout = layout_of(article.slug)
    body = _LAYOUTS[layout](article, others, c)
    page = (
        f"{_head(article, layout, charset, c)}</head>\n<body>\n{_top(others, c)}{body}"
        f"{_bottom(c)}</body></html>\n"
    )
    own = f"{article.title}\n{article.body}"
    return Page(page, tuple(dict.fromkeys(s for s in c.seen if s not in own)))


def render_index(articles: Sequence[DemoArticle]) -> str:
    """A section front page: headlines only, no article."""
    items = "".join(f'<li><a href="/news/{a.slug}.html">{e(a.title)}</a></li>' for a in articles)
    return (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        f"<title>{e(SITE_NAME)}</title></head><body><header>{e(SITE_NAME)}</header>"
        f"<main><h2>آخر الأخبار</h2><ul>{items}</ul></main><footer>{e(COPYRIGHT)}</footer>"
        "</body></html>"
    )


def _head(article: DemoArticle, layout: int, charset: str | None, c: _Chrome) -> str:
    if charset is None:
        meta = ""
    elif charset == "utf-8":
        meta = '<meta charset="utf-8">'
    else:  # how legacy-charset pages say it
        meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    iso = article.published.isoformat()
    head = (
        f'<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head>{meta}\n'
        f"<title>{e(article.title)} | {c(SITE_NAME)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<link rel="stylesheet" href="/static/site-{layout}.css">\n'
        f'<style>.breaking::before {{ content: "{c("عاجل")}"; }} .ad {{ min-height: 90px }}'
        "</style>\n"
        '<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST"></script>\n'
        f"<script>{SCRIPT.replace('{}', c(COPIED))}</script>\n"
    )
    # Each layout states the date its own way: Open Graph, JSON-LD, or only <time>.
    if layout == 0:
        return head + (
            f'<meta property="og:title" content="{e(article.title)}">\n'
            f'<meta property="og:site_name" content="{e(SITE_NAME)}">\n'
            f'<meta property="article:published_time" content="{iso}">\n'
        )
    if layout == 1:
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.title,
            "datePublished": iso,
            "publisher": {"@type": "Organization", "name": SITE_NAME},
        }
        ld_json = json.dumps(ld, ensure_ascii=False)
        return head + f'<script type="application/ld+json">{ld_json}</script>\n'
    return head


def _top(others: Sequence[DemoArticle], c: _Chrome) -> str:
    """Cookie banner, header with menu and breaking-news ticker, leaderboard ad."""
    menu = "".join(f'<li><a href="/section/{k}">{c(name)}</a></li>' for k, name in enumerate(NAV))
    return (
        f'<div id="cookie-consent" class="cookie-banner"><p>{c(COOKIE)}</p>'
        f'<button onclick="acceptCookies()">{c("موافق")}</button></div>\n'
        f'<header class="site-header"><a class="logo" href="/">{c(SITE_NAME)}</a>\n'
        f'<nav class="main-menu"><ul>{menu}</ul></nav>\n'
        f'<div class="ticker breaking"><a href="/news/{others[0].slug}.html">'
        f"{c(others[0].title)}</a></div></header>\n"
        f'<div class="ad ad-leaderboard"><span>{c("مساحة إعلانية")}</span>'
        f'<a href="https://ads.example.com/click?id=7" rel="sponsored">{c(AD)}</a></div>\n'
    )


def _bottom(c: _Chrome) -> str:
    """Newsletter box, footer, trailing scripts."""
    links = "".join(f'<li><a href="/page/{k}">{c(f)}</a></li>' for k, f in enumerate(FOOTER))
    return (
        f'<div class="newsletter"><h4>{c(NEWSLETTER)}</h4><form action="/subscribe">'
        f'<input type="email" placeholder="{e("بريدك الإلكتروني")}">'
        f"<button>{c('اشترك الآن')}</button></form></div>\n"
        f'<footer class="site-footer"><ul>{links}</ul><p>{c(COPYRIGHT)}</p></footer>\n'
        '<script src="/static/app.js" defer></script>\n'
        "<script>document.getElementById('cookie-consent').hidden = !!localStorage.ok;</script>\n"
    )


def _parts(article: DemoArticle, c: _Chrome) -> tuple[str, str, list[tuple[str, str]]]:
    """Breadcrumb, share buttons and the page's three comments (author, text)."""
    section = NAV[1 + zlib.crc32(article.title.encode()) % (len(NAV) - 1)]
    breadcrumb = (
        f'<nav class="breadcrumb">{c("أنت هنا:")} <a href="/">{c(NAV[0])}</a> › '
        f'<a href="/section/1">{c(section)}</a></nav>\n'
    )
    share = "".join(f'<a class="share-btn" href="#s{k}">{c(s)}</a>' for k, s in enumerate(SHARE))
    pick = zlib.crc32(article.slug.encode())
    return breadcrumb, share, [COMMENTS[(pick + k) % len(COMMENTS)] for k in range(3)]


def _classic(article: DemoArticle, others: Sequence[DemoArticle], c: _Chrome) -> str:
    """<main><article> with share buttons above the body; related cards with teasers."""
    breadcrumb, share, comments = _parts(article, c)
    cards = "".join(
        f'<div class="card"><h4><a href="/news/{o.slug}.html">{c(o.title)}</a></h4>'
        f"<p>{c(o.summary)}</p></div>"
        for o in others
    )
    said = "".join(
        f'<div class="comment"><span class="comment-author">{c(who)}</span><p>{c(text)}</p></div>'
        for who, text in comments
    )
    return (
        f'<main>{breadcrumb}<article class="post">\n<h1>{e(article.title)}</h1>\n'
        f'<div class="post-meta">{_time(article)}</div>\n<div class="share">{share}</div>\n'
        f'<div class="article-body">{_paragraphs_html(article)}</div>\n'
        f'<div class="author-box"><img src="/static/author.jpg" alt=""><p>{c(AUTHOR_BIO)}</p>'
        "</div>\n</article>\n"
        f'<aside class="related"><h3>{c("اقرأ أيضاً")}</h3>{cards}</aside>\n'
        f'<section id="comments" class="comments"><h3>{c("التعليقات")} (3)</h3>{said}'
        f"<form><textarea></textarea><button>{c('أضف تعليقك')}</button></form></section>"
        "</main>\n"
    )


def _portal(article: DemoArticle, others: Sequence[DemoArticle], c: _Chrome) -> str:
    """Div soup around <article>; an inline "read also" link between paragraphs, as many Arabic
    sites do; tags after the body."""
    breadcrumb, share, comments = _parts(article, c)
    inline = (
        f'<p class="read-also"><strong>{c("اقرأ أيضاً:")}</strong> '
        f'<a href="/news/{others[1].slug}.html">{c(others[1].title)}</a></p>'
    )
    paragraphs = _paragraphs_html(article, inline_after=2, inline=inline)
    related = "".join(f'<li><a href="/news/{o.slug}.html">{c(o.title)}</a></li>' for o in others)
    said = "".join(
        f'<div class="user-comment"><b>{c(who)}</b> <span>{c(text)}</span></div>'
        for who, text in comments
    )
    return (
        f'<div class="container"><div class="content">{breadcrumb}'
        f'<article class="news-details"><header><h1 class="title">{e(article.title)}</h1>'
        f'<span class="date">{c("نشر في:")} {_time(article)}</span></header>\n'
        f'<div class="share-bar">{share}</div>\n<div class="entry-content">{paragraphs}</div>\n'
        f'<div class="tags">{c("الوسوم:")} <a href="/tag/1">{c("أخبار محلية")}</a></div>\n'
        f'</article>\n<div class="related-news"><h3>{c("أخبار ذات صلة")}</h3>'
        f'<ul>{related}</ul></div>\n<div id="comments-area"><h3>{c("تعليقات القراء")}</h3>'
        f"{said}</div></div></div>\n"
    )


def _blog(article: DemoArticle, others: Sequence[DemoArticle], c: _Chrome) -> str:
    """A "most read" sidebar before the article, microdata, a comment list."""
    breadcrumb, share, comments = _parts(article, c)
    most_read = "".join(f'<li><a href="/news/{o.slug}.html">{c(o.title)}</a></li>' for o in others)
    said = "".join(
        f'<li class="comment"><cite>{c(who)}</cite><div class="comment-body"><p>{c(text)}</p>'
        "</div></li>"
        for who, text in comments
    )
    return (
        f'<div class="wrap"><aside class="sidebar"><h3>{c("الأكثر قراءة")}</h3>'
        f"<ol>{most_read}</ol></aside>\n<main>{breadcrumb}"
        '<article itemscope itemtype="https://schema.org/NewsArticle">'
        f'<h1 itemprop="headline">{e(article.title)}</h1>{_time(article)}\n'
        f'<div itemprop="articleBody">{_paragraphs_html(article)}</div>\n'
        f'<div class="share">{share}</div></article>\n'
        f'<section class="comments-section"><h3>{c("آراء القراء")}</h3>'
        f'<ol class="commentlist">{said}</ol>'
        f"<noscript>{c('يرجى تفعيل جافاسكريبت لعرض التعليقات')}</noscript></section>"
        "</main></div>\n"
    )


_LAYOUTS = (_classic, _portal, _blog)


def _paragraphs_html(article: DemoArticle, inline_after: int = 0, inline: str = "") -> str:
    paragraphs = [f"<p>{e(p)}</p>" for p in article.paragraphs]
    if inline:
        paragraphs.insert(min(inline_after, len(paragraphs)), inline)
    return "".join(paragraphs)


def _time(article: DemoArticle) -> str:
    moment = article.published
    hour, noon = moment.hour % 12 or 12, "ص" if moment.hour < 12 else "م"
    shown = (
        f"{DAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]} {moment.year} - "
        f"{hour:02d}:{moment.minute:02d} {noon}"
    )
    return f'<time datetime="{moment.isoformat()}">{shown}</time>'
