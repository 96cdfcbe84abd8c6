"""Small records files as centres hand them over (title rows, merged two-row headers, CP949), for the records tests."""
from __future__ import annotations

from pathlib import Path

TITLE = ["2023년 모바일 헬스케어 검진 결과", "○○구 보건소 / 작성일 2023-12-31"]
TOP = ["참여자번호", "측정시기", "측정일", "허리둘레(cm)", "혈압(mmHg)", "", "공복혈당(mg/dL)", "흡연"]
SUB = ["", "", "", "", "수축기", "이완기", "", ""]
ROWS = [
    ["A-001", "기초", "2023-03-06", "91.5", "135", "88", "104", "예"],
    ["A-001", "중간", "2023.05.29", "89.0", "128", "84", "99", "예"],
    ["A-002", "기초", "20230313", "80.2", "118", "76", "92", "아니오"],
    ["A-002", "최종", "2023/08/28", "79.9", "117", "75", "90", "아니오"],
]


def write_csv(path: Path, rows: list[list[str]] = ROWS, *, encoding: str = "cp949", title: list[str] = TITLE,
              top: list[str] = TOP, sub: list[str] | None = SUB) -> Path:
    """A CSV with title lines, a blank line and a (two-row, merged-looking) header; ``encoding`` as given."""
    width = len(top)
    lines = [t + "," * (width - 1) for t in title] + ["," * (width - 1), ",".join(top)]
    if sub is not None:
        lines.append(",".join(sub))
    lines += [",".join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]] = ROWS, *, title: list[str] = TITLE, top: list[str] = TOP,
               sub: list[str] | None = SUB, notes_sheet: bool = True) -> Path:
    """The same as an Excel workbook: a notes sheet first, then title rows and a header whose upper cells are merged."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    if notes_sheet:
        book.add_worksheet("안내").write(0, 0, "작성요령: 측정시기는 기초/중간/최종")
    sheet = book.add_worksheet("검진")
    for i, t in enumerate(title):
        sheet.write(i, 0, t)
    r = len(title) + 1
    j = 0
    while j < len(top):
        span = 1
        while sub is not None and j + span < len(top) and top[j + span] == "" and sub[j + span]:
            span += 1
        if span > 1:
            sheet.merge_range(r, j, r, j + span - 1, top[j])
        elif sub is not None and not sub[j]:
            sheet.merge_range(r, j, r + 1, j, top[j])
        else:
            sheet.write(r, j, top[j])
        j += span
    if sub is not None:
        r += 1
        for j, label in enumerate(sub):
            if label:
                sheet.write(r, j, label)
    for i, row in enumerate(rows, start=r + 1):
        for j, v in enumerate(row):
            if v not in ("", None):
                sheet.write(i, j, v)
    book.close()
    return path


ENROL_TOP = ["참여자번호", "성별", "생년월일", "자치구", "등록일", "참여구분", "기수", "중도탈락일"]
ENROL_ROWS = [
    ["A-001", "남", "1970-05-10", "강남구", "2023-03-06", "밴드지급", "1", "2023-05-01"],
    ["A-002", "여", "1990-12-31", "중구", "2023-03-13", "개인기기", "", ""],
    ["A-003", "여", "1958-03-21", "Nowon-gu", "", "비교군", "", ""],
]
SURVEY_TOP = ["참여자번호", "측정시기", "측정일", "걷기 실천 일수"]
SURVEY_ROWS = [["A-003", "기초", "2023-03-20", "2"], ["A-003", "최종", "2023-09-04", "3"]]
