"""Throughput of the programme-records reader on a 100,000-row long screening file (CSV in CP949, and XLSX).

The files have the centre's shape: two title rows, a blank row, a two-row header whose upper
cells span their sub-columns (혈압 / 혈액검사), Korean labels, dates as ``2023.03.06`` text (CSV)
or date cells (XLSX), and a few damaged cells (0.1% of rows) so validation has work to do.

Measured in the same run, on the same files:

* **bare** -- pandas reading the cells and nothing else: ``pd.read_csv(encoding="cp949", skiprows=5,
  header=None, dtype=str)`` for the CSV, python-calamine's ``to_python()`` into a DataFrame for the XLSX;
* **reader** -- ``evaluation.records.read_records``: header found below the title rows, merged header
  resolved, identifiers scanned, cells typed, pandera validation of every row, HMAC pseudonyms, errors
  by file / row / column, quarantine;
* **pivot** -- the long records to the participants table (``to_participants``), enrolment included.

Prints rows/s and the reader's time as a multiple of the bare read.

    .venv/bin/python benchmarks/bench_records.py [--rows 100000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import records

KEY = "bench-key-" + "x" * 32
TOP = ["참여자번호", "측정시기", "측정일", "허리둘레(cm)", "혈압(mmHg)", "", "혈액검사(mg/dL)", "", "", "흡연"]
SUB = ["", "", "", "", "수축기", "이완기", "공복혈당", "중성지방", "HDL 콜레스테롤", ""]


def make_long(rows: int, seed: int = 7) -> pd.DataFrame:
    """``rows`` screening rows: people x rounds 기초/중간/최종, plausible values, 0.1% damaged cells."""
    rng = np.random.default_rng(seed)
    people = -(-rows // 3)
    pid = np.repeat([f"C{i:07d}" for i in range(people)], 3)[:rows]
    week = np.tile([0, 12, 24], people)[:rows]
    start = pd.Timestamp("2023-01-02") + pd.to_timedelta(np.repeat(rng.integers(0, 300, people), 3)[:rows] + week * 7, unit="D")
    sbp = np.round(rng.normal(125, 14, rows), 0)
    df = pd.DataFrame({
        "participant_id": pid,
        "round": pd.Series(week).map({0: "기초", 12: "중간", 24: "최종"}).to_numpy(),
        "date": start,
        "waist": np.round(rng.normal(86, 9, rows), 1),
        "sbp": sbp,
        "dbp": np.round(np.minimum(rng.normal(78, 9, rows), sbp - 20), 0),
        "glucose": np.round(rng.normal(100, 15, rows), 0),
        "tg": np.round(np.exp(rng.normal(np.log(130), 0.45, rows)), 0),
        "hdl": np.round(rng.normal(52, 11, rows).clip(20, 120), 0),
        "smoker": np.where(rng.random(rows) < 0.2, "예", "아니오"),
    })
    bad = rng.choice(rows, size=max(1, rows // 1000), replace=False)
    df["waist"] = df["waist"].astype(object)
    df.loc[bad, "waist"] = "측정불가"  # not a number: one error each
    return df


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    body = df.assign(date=df["date"].dt.strftime("%Y.%m.%d")).to_csv(index=False, header=False, lineterminator="\r\n")
    head = "건강검진 결과 (벤치마크),,,,,,,,,\r\n작성기관: ○○구 보건소,,,,,,,,,\r\n,,,,,,,,,\r\n" + ",".join(TOP) + "\r\n" + ",".join(SUB) + "\r\n"
    path.write_bytes((head + body).encode("cp949"))
    return path


def write_xlsx(df: pd.DataFrame, path: Path) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("검진")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write(0, 0, "건강검진 결과 (벤치마크)")
    sheet.write(1, 0, "작성기관: ○○구 보건소")
    # merged upper cells (constant_memory writes row by row: header rows first)
    for j, label in enumerate(TOP):
        if label and j + 1 < len(TOP) and TOP[j + 1] == "":
            span = 1
            while j + span < len(TOP) and TOP[j + span] == "" and SUB[j + span]:
                span += 1
            sheet.merge_range(3, j, 3, j + span - 1, label)
        elif label:
            sheet.write(3, j, label)
    for j, label in enumerate(SUB):
        if label:
            sheet.write(4, j, label)
    cols = [df[c].tolist() for c in df.columns]
    dates = df["date"].dt.to_pydatetime()  # ndarray of datetime (pandas 2.x)
    for i in range(len(df)):
        r = 5 + i
        for j, col in enumerate(cols):
            if j == 2:
                sheet.write_datetime(r, j, dates[i], date)
            else:
                sheet.write(r, j, col[i])
    book.close()
    return path


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    df = make_long(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        csv, xlsx = write_csv(df, tmp / "검진.csv"), write_xlsx(df, tmp / "검진.xlsx")
        print(f"{args.rows:,} rows written in {time.perf_counter() - t0:.1f} s "
              f"(CSV {csv.stat().st_size / 1e6:.1f} MB CP949, XLSX {xlsx.stat().st_size / 1e6:.1f} MB)")

        def bare_csv():
            return pd.read_csv(csv, encoding="cp949", skiprows=5, header=None, dtype=str)

        def bare_xlsx():
            from python_calamine import CalamineWorkbook

            rows = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0).to_python(skip_empty_area=False)
            return pd.DataFrame(rows[5:])

        for name, path, bare in (("CSV (CP949)", csv, bare_csv), ("XLSX", xlsx, bare_xlsx)):
            t_bare, raw = best(bare, args.repeat)
            t_read, rec = best(lambda: records.read_records([path], key=KEY), args.repeat)
            assert len(raw) == args.rows and rec.rows_read == args.rows, (len(raw), rec.rows_read)
            print(f"\n== {name}: {args.rows:,} rows, {len(rec.errors):,} errors found "
                  f"({rec.errors['check'].value_counts().to_dict()}), {rec.rows_quarantined:,} rows quarantined")
            print(f"  bare read      {t_bare:7.2f} s  {args.rows / t_bare:12,.0f} rows/s")
            print(f"  records reader {t_read:7.2f} s  {args.rows / t_read:12,.0f} rows/s   "
                  f"= {t_read / t_bare:.1f}x the bare read")
        # the pivot to participants, with an enrolment table for the same people
        people = rec.measurements["participant_id"].drop_duplicates()
        enrol = pd.DataFrame({"participant_id": people.to_numpy(), "sex": "F", "birth_date": pd.Timestamp("1970-01-01"),
                              "district": "11680", "enrolled_on": pd.Timestamp("2023-01-02")})
        t_piv, table = best(lambda: records.to_participants((enrol, rec.measurements), programme="bench"), args.repeat)
        print(f"\n== pivot long -> participants: {len(rec.measurements):,} rows -> {len(table):,} people in {t_piv:.2f} s "
              f"({len(rec.measurements) / t_piv:,.0f} rows/s)")


if __name__ == "__main__":
    main()
