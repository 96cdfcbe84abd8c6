"""Garmin FIT files -> minutes, decoded by Garmin's official ``garmin-fit-sdk``: all-day monitoring
files (vivofit, the watch's daily files) and activity files (what Garmin Connect's "Export original"
gives for a workout: fenix, Forerunner ...).

Activity files (``file_id.type == "activity"``, or ``record`` messages and no ``monitoring`` ones):

* ``record.heart_rate`` samples (about one a second) are averaged per minute;
* steps come from laps: a walking or running lap's ``total_strides`` (``total_cycles``) times 2 (a
  stride or cycle is two steps, as for monitoring ``cycles``), spread over the lap's
  ``[start_time, start_time + total_elapsed_time)`` by the shared proportional rule. Laps without a
  stride count, or of another sport (cycling ...), give no steps; their minutes have heart rate only;
* records without heart rate and laps without steps are ``activity_file_record``. A workout is not a
  day's monitoring: the file covers the workout only, and says so in ``notes``. An activity file with
  neither heart rate nor steps is refused ("activity file, not daily monitoring").

Monitoring-file rules:

* ``timestamp_16`` (the low 16 bits of the time) is resolved against the last full timestamp of a
  ``monitoring_info`` or ``monitoring`` message, forward modulo 65,536 s (rollover); other messages'
  timestamps are not used (``device_info`` may carry a later, unrelated time);
* ``cycles`` are cumulative per activity type since local midnight (``monitoring_info``'s
  ``local_timestamp - timestamp`` gives the offset). Steps of walking and running are ``2 * cycles``
  (the FIT profile's ``steps`` sub-field has scale 1 where ``cycles`` has scale 2). The steps of a
  message are its counter minus the previous one of the same type on the same local day; a counter
  that goes backwards within a day is taken as a device reset (the new value counts whole);
* a message's steps are spread over the interval since the previous monitoring message (the device
  writes one when activity or intensity changes), by the shared proportional rule; messages without
  steps make their interval's minutes 0 (the device was counting); the first message is a point;
* messages with ``duration_min`` are the device's daily totals: dropped as ``daily_summary`` and
  compared with the summed minutes in ``notes``;
* ``heart_rate`` fields, when a device writes them, are averaged per minute.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import (
    VendorFileError, VendorFrame, _add, allocate_steps, assemble, empty_frame, minute_heart_rate,
)

FIT_EPOCH_S = 631_065_600  # 1989-12-31T00:00:00Z in Unix seconds
STEP_ACTIVITIES = ("walking", "running")


def _decode(path: Path) -> tuple[list[tuple[str, dict]], dict]:
    from garmin_fit_sdk import Decoder, Profile, Stream

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VendorFileError(path, None, f"cannot open ({exc.strerror})") from None
    if not Decoder(Stream.from_byte_array(bytearray(data))).is_fit():
        raise VendorFileError(path, None, "not a FIT file (bad header)")
    names = Profile["types"]["mesg_num"]
    order: list[tuple[str, dict]] = []

    def listener(num: int, mesg: dict) -> None:
        order.append((names.get(num, str(num)), dict(mesg)))

    decoder = Decoder(Stream.from_byte_array(bytearray(data)))
    try:
        msgs, errors = decoder.read(convert_datetimes_to_dates=False, mesg_listener=listener)
    except Exception as exc:  # the SDK reports most damage in `errors`, but not all of it
        raise VendorFileError(path, f"after message {len(order)}", f"FIT decoding failed ({type(exc).__name__})") from None
    if errors:
        raise VendorFileError(path, f"after message {len(order)}",
                              f"FIT file is damaged or cut short ({type(errors[0]).__name__}: {errors[0]})")
    return order, msgs


def read(path: Path, *, participant_id: str | None = None, source_tz: str = "Asia/Seoul") -> VendorFrame:
    """Read one FIT monitoring or activity file. Without ``participant_id`` the device serial number is the id."""
    path = Path(path)
    order, msgs = _decode(path)
    file_id = (msgs.get("file_id_mesgs") or [{}])[0]
    notes: list[str] = []
    # no export date here: ``time_created`` is when the device opened the file (a monitoring file's day
    # start, before most of its data), so later minutes are checked against the time of reading instead
    if not participant_id:
        serial = file_id.get("serial_number")
        if serial is None:
            raise VendorFileError(path, None, "no participant_id given and the file has no device serial number")
        participant_id = str(serial)
        notes.append("participant id taken from the device serial number (file_id.serial_number)")
    product = file_id.get("garmin_product") or file_id.get("product") or "device"
    label = f"garmin_fit:{product}"
    if file_id.get("type") == "activity" or (msgs.get("record_mesgs") and not msgs.get("monitoring_mesgs")):
        return _activity(path, msgs, participant_id, label, notes)

    dropped: dict[str, int] = {}
    ref = None  # last full timestamp (FIT seconds)
    offset = None  # local - UTC, seconds
    info_ts = None
    prev_t = None
    last_cum: dict[str, tuple[int, float]] = {}  # activity -> (local day, cumulative steps)
    st, en, val, hr_t, hr_v = [], [], [], [], []
    summary: dict[str, float] = {}
    per_type: dict[str, float] = {}
    records_in = used = resets = 0
    for i, (name, m) in enumerate(order, start=1):
        if name == "monitoring_info":
            if "timestamp" in m:
                ref = info_ts = m["timestamp"]
                if "local_timestamp" in m:
                    offset = m["local_timestamp"] - m["timestamp"]
            continue
        if name != "monitoring":
            continue
        records_in += 1
        if "timestamp" in m:
            t = m["timestamp"]
        elif "timestamp_16" in m and ref is not None:
            t = ref + ((m["timestamp_16"] - (ref & 0xFFFF)) & 0xFFFF)
        else:
            _add(dropped, "missing_field" if "timestamp_16" not in m else "unparseable_date", 1)
            continue
        ref = t
        activity = str(m.get("activity_type", ""))
        if "duration_min" in m:
            _add(dropped, "daily_summary", 1)
            if activity in STEP_ACTIVITIES:
                summary[activity] = summary.get(activity, 0.0) + float(m.get("steps", 2 * m.get("cycles", 0)))
            continue
        day = (t - 1 + (offset or 0)) // 86_400
        cum = None
        if "steps" in m and activity in STEP_ACTIVITIES:
            cum = float(m["steps"])
        elif "cycles" in m:
            if activity not in STEP_ACTIVITIES:
                _add(dropped, "non_step_activity", 1)
                prev_t = t
                continue
            cum = 2.0 * float(m["cycles"])
        start = prev_t if prev_t is not None else t
        if cum is not None:
            if prev_t is None and info_ts is not None and info_ts <= t:
                start = info_ts
            last_day, last = last_cum.get(activity, (day, 0.0))
            if last_day != day:
                last = 0.0
            delta = cum - last
            if delta < 0:
                resets += 1
                delta = cum
            last_cum[activity] = (day, cum)
            per_type[activity] = per_type.get(activity, 0.0) + delta
        else:
            delta = 0.0
        st.append(start)
        en.append(t)
        val.append(delta)
        if m.get("heart_rate") not in (None, 0, 255):
            hr_t.append(t)
            hr_v.append(float(m["heart_rate"]))
        used += 1
        prev_t = t
    if resets:
        notes.append(f"{resets} cumulative counters went backwards within a day (device reset): counted from 0")
    if offset is not None:
        notes.append(f"device local offset {offset / 3600:+.1f} h (monitoring_info.local_timestamp); "
                     "cycles reset at local midnight")
    if summary:
        agree = all(abs(summary[a] - per_type.get(a, 0.0)) < 1e-6 for a in summary)
        notes.append("device daily totals " + ", ".join(f"{a} {v:,.0f}" for a, v in sorted(summary.items()))
                     + (" agree with" if agree else " differ from") + " the summed minutes "
                     + ", ".join(f"{a} {per_type.get(a, 0.0):,.0f}" for a in sorted(summary)))
    if not st:
        return VendorFrame(empty_frame(), records_in, dropped, notes + ["no monitoring intervals"], 0, "garmin_fit")
    ns = 1_000_000_000
    to_ns = lambda a: (np.asarray(a, np.int64) + FIT_EPOCH_S) * ns  # noqa: E731
    zero = np.zeros(len(st), np.int64)
    steps, _, _ = allocate_steps(zero, to_ns(st), to_ns(en), np.asarray(val, float), zero)
    hr, _ = minute_heart_rate(np.zeros(len(hr_t), np.int64), to_ns(hr_t), np.asarray(hr_v, float),
                              np.zeros(len(hr_t), np.int64))
    frame = assemble(steps, hr, [participant_id], {0: label})
    vf = VendorFrame(frame, records_in, dropped, notes, used, "garmin_fit", float(np.sum(val)), {})
    return vf.check()


STEP_SPORTS = ("walking", "running", "hiking")


def _activity(path: Path, msgs: dict, participant_id: str, label: str, notes: list[str]) -> VendorFrame:
    """An activity (workout) FIT file: heart-rate minutes from records, steps from laps' stride counts."""
    records = msgs.get("record_mesgs") or []
    laps = msgs.get("lap_mesgs") or []
    sessions = msgs.get("session_mesgs") or []
    sport = next((s_.get("sport") for s_ in sessions if s_.get("sport")), None)
    hr_t, hr_v = [], []
    for r in records:
        bpm, t = r.get("heart_rate"), r.get("timestamp")
        if isinstance(t, (int, float)) and isinstance(bpm, (int, float)) and 0 < bpm < 255:
            hr_t.append(int(t))
            hr_v.append(float(bpm))
    st, en, val = [], [], []
    for lap in laps:
        strides = lap.get("total_strides", lap.get("total_cycles"))
        t0, dur = lap.get("start_time"), lap.get("total_elapsed_time")
        if (lap.get("sport") or sport) in STEP_SPORTS and isinstance(strides, (int, float)) and strides >= 0 \
                and isinstance(t0, (int, float)) and isinstance(dur, (int, float)) and dur >= 0:
            st.append(int(t0))
            en.append(int(round(t0 + dur)))
            val.append(2.0 * float(strides))
    records_in = len(records) + len(laps)
    used = len(hr_t) + len(st)
    if not used:
        raise VendorFileError(path, None, f"activity file, not daily monitoring: {len(records):,} records and "
                              f"{len(laps):,} laps hold no heart rate and no step count (sport: {sport or 'unknown'})")
    dropped: dict[str, int] = {}
    _add(dropped, "activity_file_record", records_in - used)
    ns = 1_000_000_000
    to_ns = lambda a: (np.asarray(a, np.int64) + FIT_EPOCH_S) * ns  # noqa: E731
    steps, _, _ = allocate_steps(np.zeros(len(st), np.int64), to_ns(st), to_ns(en), np.asarray(val, float),
                                 np.zeros(len(st), np.int64))
    hr, _ = minute_heart_rate(np.zeros(len(hr_t), np.int64), to_ns(hr_t), np.asarray(hr_v, float),
                              np.zeros(len(hr_t), np.int64))
    notes.append(f"activity file ({sport or 'sport unknown'}), not daily monitoring: it covers the workout only; "
                 f"{len(hr_t):,} heart-rate samples, steps from {len(st)} of {len(laps)} laps (2 x strides)")
    frame = assemble(steps, hr, [participant_id], {0: label})
    return VendorFrame(frame, records_in, dropped, notes, used, "garmin_fit", float(np.sum(val)), {}).check()
