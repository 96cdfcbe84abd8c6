"""The records reader: CSV (UTF-8, UTF-8 with BOM, CP949) and XLSX with title rows and merged two-row headers
give the same records; Korean labels are recognised without configuration; a mapping covers the rest."""
from __future__ import annotations

import pandas as pd
import pytest

from evaluation import records
from records_files import ROWS, write_csv, write_xlsx

EXPECTED = pd.DataFrame({
    "round": [0.0, 12.0, 0.0, 24.0],
    "measured_on": pd.to_datetime(["2023-03-06", "2023-05-29", "2023-03-13", "2023-08-28"]),
    "waist": [91.5, 89.0, 80.2, 79.9],
    "sbp": [135.0, 128.0, 118.0, 117.0],
    "dbp": [88.0, 84.0, 76.0, 75.0],
    "glucose": [104.0, 99.0, 92.0, 90.0],
    "smoker": [1.0, 1.0, 0.0, 0.0],
})


def _read(path, **kw):
    return records.read_records([path], demo=True, pseudonymise_ids=False, **kw)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_csv_with_title_rows_and_merged_header(tmp_path, encoding):
    rec = _read(write_csv(tmp_path / "검진.csv", encoding=encoding))
    assert rec.ok, rec.error_lines()
    m = rec.measurements
    assert m["participant_id"].tolist() == ["A-001", "A-001", "A-002", "A-002"]
    pd.testing.assert_frame_equal(m[EXPECTED.columns].reset_index(drop=True), EXPECTED, check_dtype=False)
    f = rec.files.iloc[0]
    assert f["header_rows"] == [4, 5] and f["rows"] == 4  # two title rows, a blank row, then the two header rows
    assert f["columns"]["sbp"] == "혈압(mmHg) / 수축기" and f["columns"]["dbp"] == "혈압(mmHg) / 이완기"
    assert f["encoding"] == encoding
    assert rec.rows_read == rec.rows_kept == 4 and rec.rows_quarantined == 0


def test_xlsx_with_notes_sheet_title_rows_and_merged_cells(tmp_path):
    import datetime as dt

    # numbers and dates as Excel types (a date cell, a serial-less text date, numbers), not text
    rows = [[r[0], r[1], dt.datetime(2023, 3, 6) if i == 0 else r[2], float(r[3]), int(r[4]), int(r[5]), int(r[6]), r[7]]
            for i, r in enumerate(ROWS)]
    rec = _read(write_xlsx(tmp_path / "검진.xlsx", rows=rows))
    assert rec.ok, rec.error_lines()
    assert rec.files["sheet"].tolist() == ["검진"]  # the notes sheet has no header and is skipped
    pd.testing.assert_frame_equal(rec.measurements[EXPECTED.columns].reset_index(drop=True), EXPECTED, check_dtype=False)
    assert rec.files.iloc[0]["header_rows"] == [4, 5]


def test_same_records_from_csv_and_xlsx(tmp_path):
    a = _read(write_csv(tmp_path / "a.csv")).measurements
    b = _read(write_xlsx(tmp_path / "b.xlsx")).measurements
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_single_row_header_and_english_labels(tmp_path):
    top = ["ID", "round", "waist", "SBP", "DBP"]
    rows = [["x1", "baseline", "90", "130", "80"], ["x1", "final", "88", "125", "79"]]
    rec = _read(write_csv(tmp_path / "en.csv", rows, encoding="utf-8", title=[], top=top, sub=None))
    assert rec.ok, rec.error_lines()
    assert rec.measurements["round"].tolist() == [0.0, 24.0]
    assert rec.files.iloc[0]["header_rows"] == [2]  # the blank line above the header is skipped


def test_unknown_label_is_ignored_until_mapped(tmp_path):
    top = ["참여자번호", "측정시기", "최고혈압값", "최저혈압값"]
    rows = [["A-1", "기초", "141", "92"]]
    path = write_csv(tmp_path / "m.csv", rows, title=[], top=top, sub=None)
    rec = _read(path)
    assert "sbp" not in rec.measurements and rec.files.iloc[0]["ignored"] == ["최고혈압값", "최저혈압값"]
    rec = _read(path, mapping={"최고혈압값": "sbp", "최저혈압값": "dbp"})
    assert rec.ok and rec.measurements[["sbp", "dbp"]].iloc[0].tolist() == [141.0, 92.0]
    with pytest.raises(ValueError, match="unknown field"):
        _read(path, mapping={"최고혈압값": "systolic"})


def test_enrolment_and_long_files_together(tmp_path):
    from records_files import ENROL_ROWS, ENROL_TOP, SURVEY_ROWS, SURVEY_TOP

    e = write_xlsx(tmp_path / "등록.xlsx", ENROL_ROWS, top=ENROL_TOP, sub=None, notes_sheet=False)
    s = write_csv(tmp_path / "설문.csv", SURVEY_ROWS, title=[], top=SURVEY_TOP, sub=None)
    rec = _read(tmp_path)  # a folder: every records file in it
    assert rec.ok, rec.error_lines()
    assert sorted(rec.files["kind"]) == ["enrolment", "measurement"]
    e_ = rec.enrolment.set_index("participant_id")
    assert e_.loc["A-003", "district"] == "11350" and e_.loc["A-002", "district"] == "11140"
    assert e_.loc["A-001", "sex"] == "M" and e_.loc["A-001", "arm"] == "band_issued"
    assert s.exists()


def test_missing_required_column_refuses_the_file(tmp_path):
    top = ["참여자번호", "허리둘레", "공복혈당"]  # measures without 측정시기: which round?
    rec = _read(write_csv(tmp_path / "x.csv", [["A", "90", "100"]], title=[], top=top, sub=None))
    assert rec.errors["check"].tolist() == ["missing_column"] and rec.errors["column"].iloc[0] == "측정시기"
    assert rec.files_refused == [str(tmp_path / "x.csv")] and rec.measurements.empty


def test_wrong_unit_in_header_refuses_the_file(tmp_path):
    top = ["참여자번호", "측정시기", "공복혈당(mmol/L)"]
    rec = _read(write_csv(tmp_path / "u.csv", [["A", "기초", "5.6"]], title=[], top=top, sub=None))
    assert rec.errors["check"].tolist() == ["wrong_unit"] and "공복혈당" in rec.errors["column"].iloc[0]


def test_no_header_is_one_file_error(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    rec = _read(path)
    assert rec.errors["check"].tolist() == ["no_header"] and rec.errors["row"].isna().all()


def test_parse_date_forms():
    from evaluation.records._parse import _BAD, parse_date

    for text in ("2023-03-06", "2023.3.6", "2023/03/06", "20230306", "2023년 3월 6일", "2023. 03. 06.", 44991.0):
        assert parse_date(text) == pd.Timestamp("2023-03-06"), text
    for text in ("2023-13-45", "06/03/2023", "어제"):
        assert parse_date(text) is _BAD, text
    assert parse_date("") is None and parse_date(None) is None
