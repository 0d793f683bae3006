"""The long lists' municipality filter (by name or code) and their pages."""

from __future__ import annotations

from harness.web.listing import PAGE_SIZE, match_municipalities, page_of

TARGETS = {"2326": "Berg", "2380": "Östersund", "2313": "Strömsund", "1382": "Falkenberg",
           "2321": "Åre"}  # fmt: skip


def test_a_name_or_a_code_finds_the_municipality():
    for query in ("Berg", "berg", " BERG ", "2326", "2326 Berg", "2326 berg"):
        assert match_municipalities(query, TARGETS) == {"2326"}, query


def test_accents_and_case_do_not_matter_and_parts_of_names_find_several():
    assert match_municipalities("ostersund", TARGETS) == {"2380"}
    assert match_municipalities("are", TARGETS) == {"2321"}
    assert match_municipalities("sund", TARGETS) == {"2380", "2313"}
    assert match_municipalities("23", TARGETS) == {"2326", "2380", "2313", "2321"}
    assert match_municipalities("", TARGETS) == set(TARGETS)


def test_nothing_matches_what_is_no_municipality():
    for query in ("Stockholm", "9999", "' OR '1'='1", "<script>", "x" * 6000, "2326 Åre"):
        assert match_municipalities(query, TARGETS) == set(), query


def test_pages_split_the_rows_and_any_page_value_gives_a_page():
    rows = list(range(2 * PAGE_SIZE + 5))
    first = page_of(rows, "1")
    assert (first.number, first.pages, first.first, first.last) == (1, 3, 1, PAGE_SIZE)
    last = page_of(rows, "3")
    assert list(last.rows) == rows[2 * PAGE_SIZE :]
    assert (last.first, last.last, last.total) == (2 * PAGE_SIZE + 1, 2 * PAGE_SIZE + 5, 205)
    for odd in ("0", "-1", "99", "abc", "²", "1e309", "", "9" * 40):
        paged = page_of(rows, odd)
        assert 1 <= paged.number <= 3, odd
    assert page_of(rows, "99").number == 3
    empty = page_of(list[int](), "1")
    assert (empty.total, empty.first, empty.last, empty.pages) == (0, 0, 0, 1)
    assert first.link("/email", {"kommun": "Berg", "within": ""}, 2) == "/email?kommun=Berg&page=2"
    assert first.link("/calls", {}, 1) == "/calls"
