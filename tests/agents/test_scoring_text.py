"""The scorer's text screening and span splitting (no model needed)."""

from __future__ import annotations

from codesage.agents.scoring import ScoringThresholds, screen_text, split_spans

THRESHOLDS = ScoringThresholds()


def test_spans_are_sentences_with_exact_offsets() -> None:
    answer = "  First I roll back.  Then I check the dashboards!\nFinally, a postmortem?"
    spans = split_spans(answer, THRESHOLDS)
    assert [answer[s.start : s.end] for s in spans] == [
        "First I roll back.",
        "Then I check the dashboards!",
        "Finally, a postmortem?",
    ]


def test_decimals_and_dotted_names_do_not_split_sentences() -> None:
    answer = "Version 3.12 of node.js was fine. The next one was not."
    texts = [answer[s.start : s.end] for s in split_spans(answer, THRESHOLDS)]
    assert texts == ["Version 3.12 of node.js was fine.", "The next one was not."]


def test_unpunctuated_speech_is_cut_into_overlapping_windows() -> None:
    words = [f"word{i}" for i in range(40)]
    answer = " ".join(words)
    spans = split_spans(answer, THRESHOLDS)
    assert len(spans) > 1
    covered = set()
    for span in spans:
        chunk = answer[span.start : span.end].split()
        assert 0 < len(chunk) <= THRESHOLDS.window_words
        covered.update(chunk)
    assert covered == set(words)
    assert all(spans[i].start < spans[i - 1].end for i in range(1, len(spans)))


def test_keyword_lists_are_marked_and_prose_is_not() -> None:
    answer = (
        "I would add an index on the customer column and check the plan again. "
        "index btree planner selectivity composite vacuum statistics bloat."
    )
    prose, keywords = split_spans(answer, THRESHOLDS)
    assert prose.weight == 1.0
    assert keywords.weight == THRESHOLDS.list_span_weight


def test_comma_lists_framed_as_a_sentence_count_as_keywords() -> None:
    stuffed = "My answer is idempotency keys, unique constraints, transactions, backoff and jitter."
    assert screen_text(stuffed).keyword_list_share == 1.0
    terse = "Client sends an idempotency key per payment; the server replays the saved response."
    assert screen_text(terse).keyword_list_share == 0.0


def test_screen_measures_garble() -> None:
    mash = screen_text("asdkj qwe lkjsd poiuy mnbv zxcv hjkl qqq")
    assert mash.plausible_share < THRESHOLDS.min_plausible_word_share
    fillers = screen_text("um uh so um yeah uh um like uh um")
    assert fillers.filler_share > THRESHOLDS.max_filler_share
    stutter = screen_text("the the the the project project so so so")
    assert stutter.stutter_share > THRESHOLDS.max_stutter_share
    loop = screen_text("Thank you for watching. Thank you for watching. Thank you for watching.")
    assert loop.repeated_trigram_share > THRESHOLDS.max_repeated_trigram_share


def test_repetition_flags_loops_but_not_long_answers() -> None:
    sentences = [
        "I would look at the slow query log to find the statement that takes the longest.",
        "Then I would run EXPLAIN ANALYZE on it and read the plan from the bottom up.",
        "If the plan shows a sequential scan on the orders table, I would add an index.",
        "If the page runs one query per row, that is the N plus one problem from the ORM.",
        "In that case I would load the customers together with the orders in one query.",
        "Stale statistics can mislead the planner, so I would also run ANALYZE on the table.",
        "Every new index slows down writes a little, so I would only keep the ones we use.",
        "After the fix I would measure the page again to check that it really got faster.",
        "Finally I would add a test that counts the queries, so the problem cannot come back.",
    ]
    long_answer = screen_text(" ".join(sentences))
    assert long_answer.word_count > 120
    assert long_answer.repeated_trigram_share < THRESHOLDS.max_repeated_trigram_share / 3
    loop = screen_text(" ".join(sentences[:2] * 4))
    assert loop.repeated_trigram_share > THRESHOLDS.max_repeated_trigram_share


def test_screen_accepts_technical_prose() -> None:
    screen = screen_text(
        "I'd run EXPLAIN ANALYZE on the SQL, look for a seq scan, and add a B-tree index on "
        "customer_id; N+1 queries from the ORM get batched."
    )
    assert screen.plausible_share >= THRESHOLDS.min_plausible_word_share
    assert screen.filler_share == 0.0
    assert screen.stutter_share == 0.0
    assert screen.keyword_list_share == 0.0
