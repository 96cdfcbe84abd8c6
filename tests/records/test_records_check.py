"""`evaluation records check`: a damaged Korean-header file gets every error at once, by file, row and column,
and no value; identifier columns (names, phone numbers, resident-registration numbers) are refused, not stored."""
from __future__ import annotations

import pandas as pd
import pytest

from evaluation import records
from evaluation.cli import main
from records_files import ENROL_ROWS, ENROL_TOP, write_csv, write_xlsx

TOP = ["참여자번호", "측정시기", "측정일", "허리둘레(cm)", "혈압(mmHg)", "", "공복혈당(mg/dL)", "흡연"]
SUB = ["", "", "", "", "수축기", "이완기", "", ""]
# file rows: 2 title lines + blank (1-3), header rows 4-5, data from row 6
DAMAGED = [
    ["B-101", "기초", "2023-03-06", "91.5", "135", "88", "104", "예"],        # 6 fine
    ["B-101", "중반", "2023-05-29", "90.0", "130", "85", "101", "예"],        # 7 round not 기초/중간/최종
    ["B-102", "기초", "2023-13-45", "abc", "1200", "77", "95", "가끔"],       # 8 date, waist, sbp range, smoking
    ["B-102", "최종", "2023-09-01", "84.0", "90", "95", "97", "아니오"],      # 9 diastolic >= systolic
    ["B-101", "기초", "2023-03-07", "91.0", "134", "87", "103", "예"],        # 10 same person and round again
    ["", "중간", "2023-06-01", "85.0", "120", "80", "99", "아니오"],          # 11 no participant number
    ["B-103", "기초", "2023-03-08", "88.8", "128", "82", "1999", "아니오"],     # 12 glucose out of range
]
EXPECTED = {
    (7, "B (측정시기)", "not_round"),
    (8, "C (측정일)", "not_date"),
    (8, "D (허리둘레(cm))", "not_number"),
    (8, "E (혈압(mmHg) / 수축기)", "out_of_range"),
    (8, "H (흡연)", "not_yes_no"),
    (9, "F (혈압(mmHg) / 이완기)", "dbp_not_below_sbp"),
    (10, "A (참여자번호)", "duplicate"),
    (11, "A (참여자번호)", "missing"),
    (12, "G (공복혈당(mg/dL))", "out_of_range"),
}
VALUES = ["B-101", "B-102", "B-103", "중반", "2023-13-45", "abc", "1200", "가끔", "1999"]


@pytest.fixture
def damaged(tmp_path):
    return write_csv(tmp_path / "검진_손상.csv", DAMAGED, top=TOP, sub=SUB)


def test_every_error_by_file_row_and_column(damaged):
    rec = records.check([damaged])
    found = {(int(r), c, k) for r, c, k in zip(rec.errors["row"], rec.errors["column"], rec.errors["check"])}
    assert found == EXPECTED
    assert set(rec.errors["file"]) == {str(damaged)}
    # the damaged rows are quarantined, the rest goes on: rows in = kept + quarantined
    assert rec.rows_read == 7 and rec.rows_quarantined == 6 and rec.rows_kept == 1
    assert sorted(rec.quarantine["row"]) == [7, 8, 9, 10, 11, 12]


def test_cli_check_exit_2_lists_every_error_and_no_value(damaged, capsys):
    assert main(["records", "check", str(damaged)]) == 2
    out, err = capsys.readouterr()
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == len(EXPECTED)
    for row, column, check in EXPECTED:
        assert any(f"{row}행" in ln and column in ln and f"[{check}]" in ln for ln in lines), (row, column, check)
    for value in VALUES:
        assert value not in out + err, value
    assert "오류 9건" in err
    assert main(["records", "check", "--lang", "en", str(damaged)]) == 2
    out, _ = capsys.readouterr()
    assert "row 8" in out and "not a date" in out


def test_cli_check_exit_0_on_valid_files(tmp_path, capsys):
    good = write_csv(tmp_path / "ok.csv", [DAMAGED[0]], top=TOP, sub=SUB)
    assert main(["records", "check", str(good)]) == 0
    assert "오류 0건" in capsys.readouterr().out


def test_cli_check_map_option(tmp_path, capsys):
    path = write_csv(tmp_path / "m.csv", [["A", "기초", "141"]], title=[], top=["참여자번호", "측정시기", "최고혈압값"], sub=None)
    assert main(["records", "check", "--map", "최고혈압값=sbp", str(path)]) == 0
    assert main(["records", "check", "--map", "최고혈압값=systolic", str(path)]) == 2
    assert "unknown field" in capsys.readouterr().err


@pytest.mark.parametrize("label, value, check", [
    ("성명", "홍길동", "pii_column"),
    ("연락처", "010-1234-5678", "pii_column"),
    ("주민등록번호", "800101-1234567", "pii_column"),
    ("비고", "800101-1234567", "pii_rrn_values"),     # an identifier hidden in a free-text column
    ("비고", "01012345678", "pii_phone_values"),
])
def test_identifier_columns_are_refused_and_named_without_value(tmp_path, label, value, check, capsys):
    top = [*ENROL_TOP, label]
    rows = [[*r, value if i == 1 else ""] for i, r in enumerate(ENROL_ROWS)]
    path = write_xlsx(tmp_path / "등록.xlsx", rows, top=top, sub=None, notes_sheet=False)
    rec = records.check([path])
    assert rec.errors["check"].tolist() == [check]
    assert label in rec.errors["column"].iloc[0] and rec.errors["row"].isna().all()
    assert rec.enrolment.empty and rec.files_refused == [str(path)]  # nothing of the file is kept
    assert main(["records", "check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert value not in out + err and "파일 전체" in out


@pytest.mark.parametrize("ids, check", [
    (["800101-1234567", "900202-2345678", "700303-1456789"], "pii_rrn_values"),
    (["홍길동", "김철수", "이영희"], "pii_name_values"),
])
def test_identifiers_in_the_id_column_are_refused(tmp_path, ids, check):
    rows = [[i, *r[1:]] for i, r in zip(ids, ENROL_ROWS)]
    path = write_xlsx(tmp_path / "등록.xlsx", rows, top=ENROL_TOP, sub=None, notes_sheet=False)
    rec = records.check([path])
    assert rec.errors["check"].tolist() == [check] and rec.errors["column"].iloc[0] == "A (참여자번호)"


def test_refused_file_stops_the_build_and_writes_nothing(tmp_path):
    from evaluation.runs import params
    from evaluation.records._build import RecordsRefusedError

    (tmp_path / "notebooks").mkdir()
    rows = [[*r, "010-9876-5432"] for r in ENROL_ROWS]
    (tmp_path / "in").mkdir()
    write_xlsx(tmp_path / "in" / "등록.xlsx", rows, top=[*ENROL_TOP, "휴대폰"], sub=None, notes_sheet=False)
    cfg = tmp_path / "p.yaml"
    cfg.write_text("programme: t\nnotebooks: [{path: notebooks/x.ipynb}]\n"
                   "records: {files: [in], output: out/participants.parquet, demo: true}\n", encoding="utf-8")
    loaded = params.load(cfg, base_dir=tmp_path, check_files=False)
    with pytest.raises(RecordsRefusedError) as exc:
        records.build(loaded, base_dir=tmp_path)
    assert "휴대폰" in str(exc.value) and "9876" not in str(exc.value)
    assert not (tmp_path / "out").exists()


def test_records_params_unknown_key_is_an_error(tmp_path):
    from evaluation.runs import params

    (tmp_path / "notebooks").mkdir()
    cfg = tmp_path / "p.yaml"
    cfg.write_text("programme: t\nnotebooks: [{path: notebooks/x.ipynb}]\n"
                   "records: {files: [in], output: o.parquet, colums: {}}\n", encoding="utf-8")
    with pytest.raises(params.ParamsError, match="unknown key 'records.colums'.*did you mean 'columns'"):
        params.load(cfg, base_dir=tmp_path, check_files=False)
    cfg.write_text("programme: t\nnotebooks: [{path: notebooks/x.ipynb}]\n"
                   "records: {files: [in], output: o.parquet, pseudonymise_ids: false}\n", encoding="utf-8")
    with pytest.raises(params.ParamsError, match="only with demo"):
        params.load(cfg, base_dir=tmp_path, check_files=False)


def test_messages_exist_for_every_check_in_korean_and_english():
    assert all(ko and en and ko != en for ko, en in records.MESSAGES.values())
    assert isinstance(pd.DataFrame(records.describe()), pd.DataFrame)
