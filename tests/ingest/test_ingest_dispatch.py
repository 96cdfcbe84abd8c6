"""read_exports on a folder of own-device exports: each vendor reader is reached by content, and a vendor
whose steps and heart rate come in separate files per day (Fitbit, Samsung) gives one row per minute."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import ingest
from evaluation.ingest import vendors


@pytest.mark.parametrize("fmt", ["fitbit_json", "samsung_health_csv", "apple_health_xml"])
def test_a_folder_of_vendor_files_gives_one_row_per_minute(tmp_path, fmt):
    ts = pd.date_range("2023-03-06 10:00", periods=90, freq="min", tz="Asia/Seoul")
    truth = pd.DataFrame({"participant_id": "x", "ts": ts, "steps": np.arange(90) % 30,
                          "heart_rate": 70.0 + np.arange(90) % 5})
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / ("export.xml" if fmt == "apple_health_xml" else "participant")
    vendors.write_synthetic(fmt, truth, target, participant_id="RAW-ID-1")
    res = ingest.read_exports([folder], demo=True, participant_id="RAW-ID-1")
    got = res.minutes.sort_values("ts").reset_index(drop=True)
    assert len(got) == len(truth)  # not twice: steps and heart rate joined per minute
    assert got["steps"].astype(int).tolist() == truth["steps"].tolist()
    np.testing.assert_allclose(got["heart_rate"].to_numpy(float), truth["heart_rate"].to_numpy(), atol=1e-6)
    assert str(got["source"].iloc[0]).startswith(fmt.split("_")[0])
    assert "RAW-ID-1" not in set(got["participant_id"].astype(str))
