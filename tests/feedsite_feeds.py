"""Feed documents of the test news site: RSS 2.0, Atom and RDF (RSS 1.0) from `Item`s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape as e


@dataclass(frozen=True)
class Item:
    """One feed item; `link` as written in the feed (absolute unless testing relative links)."""

    link: str
    title: str | None
    summary: str
    published: datetime | None
    guid: str | None


def render_feed(
    fmt: str, title: str, home: str, items: Sequence[Item], xml_base: str = ""
) -> bytes:
    """A feed document in `fmt` ("rss", "atom" or "rdf"), UTF-8."""
    render = {"rss": _rss, "atom": _atom, "rdf": _rdf}[fmt]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + render(title, home, items, xml_base)
    ).encode()


def _summary_html(item: Item) -> str:
    return e(f'<img src="/static/thumb.jpg" alt=""><p>{e(item.summary)}</p>')


def _rss(title: str, home: str, items: Sequence[Item], _: str) -> str:
    out = [f"<rss version='2.0'><channel><title>{e(title)}</title><link>{e(home)}</link>"]
    out.append(f"<description>{e(title)}</description><language>ar</language>")
    for i in items:
        out.append("<item>" + (f"<title>{e(i.title)}</title>" if i.title is not None else ""))
        out.append(f"<link>{e(i.link)}</link>")
        out.append(f"<guid isPermaLink='false'>{e(i.guid)}</guid>" if i.guid else "")
        out.append(f"<pubDate>{format_datetime(i.published)}</pubDate>" if i.published else "")
        out.append(f"<description>{_summary_html(i)}</description></item>\n")
    return "".join(out) + "</channel></rss>\n"


def _atom(title: str, home: str, items: Sequence[Item], xml_base: str) -> str:
    base = f" xml:base='{e(xml_base)}'" if xml_base else ""
    out = [f"<feed xmlns='http://www.w3.org/2005/Atom' xml:lang='ar'><title>{e(title)}</title>"]
    out.append(f"<id>{e(home)}</id><link rel='alternate' href='{e(home)}'/>")
    for i in items:
        out.append(
            f"<entry{base}>" + (f"<title>{e(i.title)}</title>" if i.title is not None else "")
        )
        out.append(f"<link rel='alternate' type='text/html' href='{e(i.link)}'/>")
        out.append(f"<id>{e(i.guid or i.link)}</id>")
        when = i.published.isoformat() if i.published else ""
        out.append(f"<published>{when}</published><updated>{when}</updated>" if when else "")
        out.append(f"<summary type='html'>{_summary_html(i)}</summary></entry>\n")
    return "".join(out) + "</feed>\n"


def _rdf(title: str, home: str, items: Sequence[Item], _: str) -> str:
    out = [
        "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' "
        "xmlns='http://purl.org/rss/1.0/' xmlns:dc='http://purl.org/dc/elements/1.1/'>",
        f"<channel rdf:about='{e(home)}'><title>{e(title)}</title><link>{e(home)}</link>",
        f"<description>{e(title)}</description><items><rdf:Seq>",
        *(f"<rdf:li rdf:resource='{e(i.link)}'/>" for i in items),
        "</rdf:Seq></items></channel>\n",
    ]
    for i in items:
        out.append(f"<item rdf:about='{e(i.link)}'>")
        out.append(f"<title>{e(i.title)}</title>" if i.title is not None else "")
        out.append(f"<link>{e(i.link)}</link><description>{_summary_html(i)}</description>")
        out.append(f"<dc:date>{i.published.isoformat()}</dc:date>" if i.published else "")
        out.append("</item>\n")
    return "".join(out) + "</rdf:RDF>\n"
