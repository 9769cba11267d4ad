"""The developer CLI end to end, in-process (the model is loaded once per session)."""

from __future__ import annotations

import json
import re

import pytest

from retrieval.cli import main
from tests.conftest import DEMO, SEED, SHARED

pytestmark = pytest.mark.slow


@pytest.fixture()
def env(tmp_path, monkeypatch, real_encoder):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "index"))
    return tmp_path


def test_ingest_build_ask(env, capsys):
    broken = env / "broken.jsonl"
    broken.write_text('{"title": "خبر", "text": "نص الخبر هنا"}\n{oops\n', encoding="utf-8")
    assert main(["ingest", str(SEED), str(broken)]) == 0
    out, err = capsys.readouterr()
    assert "added 2," in out
    assert "broken.jsonl:2" in err
    assert main(["ask", "ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["title"].startswith("تعاون أمني")  # passage ranking: see test_search
    assert hits[0]["answer_sentence"] in hits[0]["text"]
    assert hits[0]["relevance"] is not None and hits[0]["relevance"] >= 0.5
    # re-ingesting is idempotent and the index needs no new embeddings
    assert main(["ingest", str(SEED)]) == 0
    assert "unchanged 1," in capsys.readouterr().out
    assert main(["build"]) == 0
    assert "0 embedded" in capsys.readouterr().out


def test_ask_without_an_index_is_a_clear_error(env, capsys):
    assert main(["ask", "سؤال"]) == 2
    assert "no index" in capsys.readouterr().err


def test_ask_an_empty_question_is_a_clear_error(env, capsys):
    assert main(["ingest", str(SEED)]) == 0
    capsys.readouterr()
    assert main(["ask", "   "]) == 2
    assert "error:" in capsys.readouterr().err


def test_ingest_of_only_bad_input_fails(env, capsys):
    empty = env / "empty.txt"
    empty.write_text("", encoding="utf-8")
    assert main(["ingest", str(empty), str(env / "missing.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "empty.txt" in err and "missing.jsonl" in err


def test_eval_reports_exactly_the_documented_keys(env, capsys):
    arcd = json.loads((SHARED / "arcd" / "arcd-test.json").read_text(encoding="utf-8"))
    small = {"version": arcd.get("version"), "data": arcd["data"][:6]}
    qa_file = env / "small.json"
    qa_file.write_text(json.dumps(small, ensure_ascii=False), encoding="utf-8")
    assert main(["eval", str(qa_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {
        "recall@1",
        "recall@5",
        "recall@10",
        "mrr@10",
        "questions",
        "passages",
        "answer_in_sentence",
    }
    paragraphs = sum(len(a["paragraphs"]) for a in small["data"])
    assert result["questions"] == sum(len(p["qas"]) for a in small["data"] for p in a["paragraphs"])
    assert result["passages"] >= paragraphs
    assert 0.5 <= result["recall@5"] <= 1.0
    assert result["recall@1"] <= result["recall@5"] <= result["recall@10"]
    # the evaluation never touches the main database
    assert not (env / "cli.db").exists()


def test_eval_report_writes_markdown_and_plot(env, capsys):
    arcd = json.loads((SHARED / "arcd" / "arcd-test.json").read_text(encoding="utf-8"))
    qa_file = env / "tiny.json"
    qa_file.write_text(json.dumps({"data": arcd["data"][:3]}, ensure_ascii=False), "utf-8")
    assert main(["eval", str(qa_file), "--mode", "all", "--report", str(env / "rep")]) == 0
    report = (env / "rep" / "report.md").read_text(encoding="utf-8")
    assert "| hybrid |" in report and "| dense |" in report and "| lexical |" in report
    assert (env / "rep" / "recall_at_k.png").read_bytes()[:4] == b"\x89PNG"


def test_eval_of_a_missing_file(env, capsys):
    assert main(["eval", str(env / "nope.json")]) == 2


@pytest.mark.parametrize(
    "argv", [["build", "--full", "--fresh"], ["ask", "سؤال", "--k", "0"], ["chat", "--k", "x"]]
)
def test_contradictory_or_out_of_range_arguments_are_refused(argv, capsys) -> None:
    from retrieval.cli import _parser

    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_migrate_brings_a_database_to_the_newest_revision(env, capsys):
    from corpus.schema import head_revision

    assert main(["migrate"]) == 0
    assert f"at revision {head_revision()} (was none;" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert f"(was {head_revision()};" in capsys.readouterr().out


def test_migrate_down_to_a_revision_and_up_again(env, capsys):
    from corpus.schema import head_revision

    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["migrate", "--down-to", "0005"]) == 0
    assert f"at revision 0005 (was {head_revision()};" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert f"at revision {head_revision()} (was 0005;" in capsys.readouterr().out


def test_migrate_down_to_an_unknown_revision_is_a_clear_error(env, capsys):
    from corpus.schema import head_revision

    assert main(["migrate"]) == 0
    assert main(["migrate", "--down-to", "9999"]) == 2
    assert "error: cannot go down to '9999':" in capsys.readouterr().err
    assert main(["migrate"]) == 0
    assert f"(was {head_revision()};" in capsys.readouterr().out


def test_an_unreachable_database_is_a_clear_error(env, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert main(["migrate"]) == 2
    assert "error: database unavailable:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "told"),
    [
        ("not json", "not a SQuAD-format JSON file"),
        ('{"data": 1}', "not a SQuAD-format JSON file"),
        ('{"data": [{"paragraphs": [{"qas": []}]}]}', "not a SQuAD-format JSON file"),
        ('{"data": []}', "no questions"),
    ],
)
def test_eval_of_a_bad_file_is_one_clear_error(tmp_path, monkeypatch, capsys, content, told):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.setenv("ENV_FILE", str(tmp_path / "none.env"))
    bad = tmp_path / "qa.json"
    bad.write_text(content, encoding="utf-8")
    assert main(["eval", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and told in err and "Traceback" not in err
    assert main(["eval", str(tmp_path)]) == 2
    assert "a folder, not a file" in capsys.readouterr().err


def test_chat_answers_as_the_bot_would(env, monkeypatch):
    from retrieval.cli import CHAT_EMPTY, CHAT_NOTHING, chat_reply
    from retrieval.library import Library
    from retrieval.settings import LibrarySettings

    assert main(["ingest", str(SEED), str(DEMO)]) == 0
    assert main(["build"]) == 0
    library = Library.open(LibrarySettings())
    answer = chat_reply(library, "ما الذي اتفق عليه الجانبان بشأن الهجرة غير الشرعية؟", 3, "hybrid")
    assert "تعاون أمني" in answer
    # nothing in the news answers it: said so, no unrelated passages shown
    assert chat_reply(library, "ما هي عاصمة المريخ؟", 3, "hybrid") == CHAT_NOTHING
    assert chat_reply(library, "؟!", 3, "hybrid") == CHAT_EMPTY
    # the latest news, newest first
    latest = chat_reply(library, "ما آخر الأخبار؟", 3, "hybrid")
    dates = [re.findall(r"\b20\d\d-\d\d-\d\d\b", block)[0] for block in latest.split("\n\n")]
    assert len(dates) == 3 and dates == sorted(dates, reverse=True), latest
