"""Published figures in data/: every row is sourced and dated, the loader refuses a broken file
whole (naming file, line, column and value), and lookups return what the files say."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from sim import published
from sim.published import COLUMNS, Figure, PublishedDataError, UnknownFigure

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SHIPPED = sorted(DATA.glob("*.csv"))

GOOD_ROW = {
    "series": "hkex_etf_adt",
    "period": "2024",
    "value": "16.0",
    "unit": "HKD_bn",
    "source": "HKEX, HKEX Monthly Market Highlights for Dec 2025",
    "source_date": "2026-01",
    "note": "",
}


def write(folder: Path, name: str, rows: list[dict[str, str]], header: tuple[str, ...] = COLUMNS) -> Path:
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(column, "") for column in header])
    return path


def test_the_loader_finds_the_repository_data_folder():
    assert published.DATA_DIR == DATA
    assert published.file_names() == [path.stem for path in SHIPPED]
    assert len(SHIPPED) >= 5


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_every_shipped_row_has_a_source_and_a_publication_date(path: Path):
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, f"{path.name} has no figures"
    for line, row in enumerate(rows, start=2):
        assert row["source"].strip(), f"{path.name} line {line}: no source"
        assert row["source_date"].strip(), f"{path.name} line {line}: no source date"
    table = published.load(path.stem)  # the loader's full check passes too
    assert len(table) == len(rows)


def test_all_shipped_files_load_together_without_a_figure_in_two_files():
    table = published.figures()
    assert set(table["file"]) == {path.stem for path in SHIPPED}
    assert not table.duplicated(["series", "period"]).any()
    assert table["value"].dtype == float
    # periods stay text: 2020 must not turn into a number, FY2024-25 must not be lost
    assert {"2020", "2021-08", "2025-07-23", "FY2024-25"} <= set(table["period"])


@pytest.mark.parametrize(
    ("series", "period", "value", "unit"),
    [
        ("hkex_etf_adt", "2024", 16.0, "HKD_bn"),
        ("hkex_etf_adt", "2025", 33.3, "HKD_bn"),
        ("hkex_securities_adt", "2025", 249.8, "HKD_bn"),
        ("hkex_securities_adt", "2021-08", 159.3, "HKD_bn"),
        ("hkex_li_adt", "2024", 2.9, "HKD_bn"),
        ("stamp_duty_stock_revenue", "FY2024-25", 52.17, "HKD_bn"),
        ("stamp_duty_revenue_change_estimate", "2021-08-01", 12.0, "HKD_bn_per_year"),
        ("hkgb_tender_hkd_3y_bid_to_cover", "2025-07-23", 3.50, "ratio"),
        ("tokenized_green_bond_size", "2023-02-16", 0.8, "HKD_bn"),
        ("tracker_fund_trades", "2024-05-10", 5945.0, "count"),
    ],
)
def test_figure_returns_what_the_file_says(series, period, value, unit):
    found = published.figure(series, period)
    assert isinstance(found, Figure)
    assert found.value == pytest.approx(value)
    assert found.unit == unit
    assert found.source and found.source_date


def test_an_approximate_figure_says_so_in_its_note():
    assert published.figure("stamp_duty_revenue_change_estimate", "2021-08-01").note.startswith("about")
    assert "about" in published.figure("tokenized_green_bond_size", "2025-11-11").note


def test_a_figure_is_frozen():
    found = published.figure("hkex_etf_adt", "2024")
    with pytest.raises(AttributeError):
        found.value = 0.0  # type: ignore[misc]


def test_an_unknown_series_names_the_close_matches():
    with pytest.raises(UnknownFigure) as raised:
        published.figure("hkex_etf_ad", "2024")
    message = str(raised.value)
    assert "'hkex_etf_ad'" in message
    assert "did you mean" in message and "hkex_etf_adt" in message


def test_an_unknown_period_names_the_periods_the_series_has():
    with pytest.raises(UnknownFigure) as raised:
        published.figure("hkex_etf_adt", "2016")
    message = str(raised.value)
    assert "'2016'" in message and "2024" in message and "2025" in message


def test_a_good_file_in_another_folder_loads(tmp_path):
    write(tmp_path, "one", [GOOD_ROW, {**GOOD_ROW, "period": "FY2024-25", "value": "-0.2", "source_date": "2025-07-23"}])
    table = published.load("one", tmp_path)
    assert list(table.columns) == list(COLUMNS)
    assert table["value"].tolist() == [16.0, -0.2]
    assert published.figure("hkex_etf_adt", "FY2024-25", tmp_path).value == -0.2


@pytest.mark.parametrize(
    ("change", "column", "expected"),
    [
        ({"source": ""}, "source", "a value"),
        ({"source": "   "}, "source", "a value"),
        ({"source_date": ""}, "source_date", "a value"),
        ({"source_date": "Feb 2015"}, "source_date", "publication date"),
        ({"source_date": "FY2024-25"}, "source_date", "publication date"),
        ({"value": "about 12"}, "value", "finite number"),
        ({"value": "1,200"}, "value", "finite number"),
        ({"value": "nan"}, "value", "finite number"),
        ({"unit": "HK$bn"}, "unit", "one of"),
        ({"period": "2021-13"}, "period", "a year 2024"),
        ({"period": "2023-02-30"}, "period", "a year 2024"),
        ({"period": "FY2024-26"}, "period", "a year 2024"),
        ({"period": "Q3 2025"}, "period", "a year 2024"),
        ({"series": "ETF ADT"}, "series", "lower-case"),
    ],
)
def test_a_bad_row_is_refused_naming_file_line_column_and_value(tmp_path, change, column, expected):
    path = write(tmp_path, "bad", [GOOD_ROW, {**GOOD_ROW, "period": "2025", **change}])
    with pytest.raises(PublishedDataError) as raised:
        published.load("bad", tmp_path)
    message = str(raised.value)
    assert str(path) in message
    assert "line 3" in message
    assert f"{column} = {change[column].strip()!r}" in message
    assert expected in message


def test_a_repeated_series_and_period_is_refused_naming_both_lines(tmp_path):
    write(tmp_path, "twice", [GOOD_ROW, {**GOOD_ROW, "period": "2025"}, {**GOOD_ROW, "value": "16.1"}])
    with pytest.raises(PublishedDataError, match=r"line 4: series 'hkex_etf_adt' period '2024' repeats line 2"):
        published.load("twice", tmp_path)


def test_the_same_figure_in_two_files_is_refused(tmp_path):
    write(tmp_path, "first", [GOOD_ROW])
    write(tmp_path, "second", [{**GOOD_ROW, "value": "16.1"}])
    with pytest.raises(PublishedDataError, match=r"more than one file \(first, second\)"):
        published.figures(tmp_path)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (tuple(column for column in COLUMNS if column != "source"), "missing column(s) source"),
        ((*COLUMNS, "comment"), "unexpected column(s) comment"),
        (("period", "series", *COLUMNS[2:]), "columns out of order"),
    ],
)
def test_a_file_without_the_schema_header_is_refused(tmp_path, header, expected):
    write(tmp_path, "columns", [GOOD_ROW], header=header)
    with pytest.raises(PublishedDataError) as raised:
        published.load("columns", tmp_path)
    assert "line 1" in str(raised.value) and expected in str(raised.value)


def test_a_short_row_and_an_empty_file_are_refused(tmp_path):
    (tmp_path / "short.csv").write_text(",".join(COLUMNS) + "\nhkex_etf_adt,2024,16.0\n", encoding="utf-8")
    with pytest.raises(PublishedDataError, match="line 2: 3 cells; expected 7"):
        published.load("short", tmp_path)
    write(tmp_path, "empty", [])
    with pytest.raises(PublishedDataError, match="no figures below the header"):
        published.load("empty", tmp_path)


def test_a_missing_file_names_the_files_there(tmp_path):
    write(tmp_path, "present", [GOOD_ROW])
    with pytest.raises(PublishedDataError, match=r"no such data file \(files in .*: present\)"):
        published.load("absent", tmp_path)


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2025-07-23", date(2025, 7, 23), date(2025, 7, 23)),
        ("FY2024-25", date(2024, 4, 1), date(2025, 3, 31)),
        ("FY1999-00", date(1999, 4, 1), date(2000, 3, 31)),
    ],
)
def test_period_bounds_follow_the_calendar_and_the_april_fiscal_year(period, first, last):
    assert published.period_bounds(period) == (first, last)
