"""Numba kernels over participant-sorted minute arrays.

Hand-written because the rules are run-length logic per participant (duplicate
groups, stuck runs, zero-step runs with spike allowances) that no library
vectorises: pandas needs several groupby/shift/cumsum passes (see
``_reference.py``), and the public Choi implementations loop per subject in
Python. Each kernel is one or two linear passes; arrays must be sorted by
(participant code, minute) with ties in input order.
"""
from __future__ import annotations

import numba as nb
import numpy as np

_NJ = dict(nogil=True, cache=True, boundscheck=False, error_model="numpy")


@nb.njit(**_NJ)
def is_sorted(pid, t):
    for i in range(1, len(pid)):
        if pid[i] < pid[i - 1] or (pid[i] == pid[i - 1] and t[i] < t[i - 1]):
            return False
    return True


@nb.njit(**_NJ)
def _same(a, b):
    return a == b or (a != a and b != b)


_ANG = 2.0 * np.pi * np.arange(1440) / 1440.0
COS = np.cos(_ANG)
SIN = np.sin(_ANG)


NS_PER_MIN = 60_000_000_000


@nb.njit(**_NJ)
def _minute(tns, k, toff):
    # a literal divisor lets LLVM turn the division into a multiply-shift
    return tns[k] // 60_000_000_000 + toff


@nb.njit(**_NJ)
def clean_kernel(pid, tns, toff, steps, hr, hr_min, hr_max, steps_max, stuck_len, quiet_mode,
                 frame, spike_len, spike_max, stream, phase_min, thresh_min, min_steps, off_min, cos_t, sin_t,
                 dup, conflict, hr_bad, hr_stuck, steps_bad, nonwear, gap, flag_gap, offset, wear, steps_clean, hr_clean):
    """Fill the output arrays in place; returns the number of participant-days (clock-corrected).

    ``tns``: UTC (or local) nanoseconds; local minute = ``tns // 60e9 + toff``.
    quiet_mode: 0 = no plausible HR and zero steps (hr_steps), 1 = no plausible HR (hr),
    2 = zero steps (choi / troiano). ``cos_t``/``sin_t``: tables over the 1,440 minutes of a day.
    One pass per participant over the inputs; duplicates are resolved when their minute is first met.
    """
    n = len(pid)
    a = 0
    simple_runs = spike_len == 0
    n_days = 0
    while a < n:
        b = a + 1
        while b < n and pid[b] == pid[a]:
            b += 1
        prev_t = -1
        run_start = a
        run_len = 0
        run_val = np.nan
        q_start = a
        q_len = 0
        sx = 0.0
        sy = 0.0
        tot = 0.0
        grp_end = a - 1
        tk = _minute(tns, a, toff)
        for k in range(a, b):
            has_next = k + 1 < b
            tn = _minute(tns, k + 1, toff) if has_next else tk
            if k > grp_end and has_next and tn == tk:
                grp_end = _duplicates(k, b, tns, toff, steps, hr, dup, conflict)
            if k <= grp_end and dup[k]:
                steps_clean[k] = 0
                hr_clean[k] = np.nan
                tk = tn
                continue
            wear[k] = True
            if prev_t >= 0 and tk - prev_t > 1:
                gap[k] = tk - prev_t - 1
                flag_gap[k] = True
            prev_t = tk
            s = steps[k]
            if s < 0 or s > steps_max:
                steps_bad[k] = True
                steps_clean[k] = 0
            else:
                steps_clean[k] = s
                if s > 0:
                    m = tk % 1440
                    sx += s * cos_t[m]
                    sy += s * sin_t[m]
                    tot += s
            h = hr[k]
            present = h == h
            hr_ok = present
            if present and (h < hr_min or h > hr_max):
                hr_bad[k] = True
                hr_clean[k] = np.nan
                hr_ok = False
            else:
                hr_clean[k] = h
            # stuck runs: identical non-missing values on consecutive kept rows
            if present and run_len > 0 and h == run_val:
                run_len += 1
            else:
                if run_len >= stuck_len:
                    _mark_stuck(run_start, k, dup, hr_stuck, hr_clean)
                run_start = k
                run_len = 1 if present else 0
                run_val = h
            if simple_runs:
                if quiet_mode == 0:
                    q = s == 0 and not hr_ok
                elif quiet_mode == 1:
                    q = not hr_ok
                else:
                    q = s == 0
                if q:
                    if q_len == 0:
                        q_start = k
                    q_len += 1
                elif q_len > 0:
                    if q_len >= frame:
                        _mark(q_start, k, dup, nonwear, wear)
                    q_len = 0
            tk = tn
        if run_len >= stuck_len:
            _mark_stuck(run_start, b, dup, hr_stuck, hr_clean)
        if simple_runs:
            if q_len >= frame:
                _mark(q_start, b, dup, nonwear, wear)
        else:
            _quiet_runs(a, b, dup, steps, hr, hr_bad, quiet_mode, frame, spike_len, spike_max, stream, nonwear, wear)
        shift = 0
        if tot >= min_steps:
            phase = np.arctan2(sy, sx) / (2.0 * np.pi) * 1440.0
            d = abs(phase - phase_min) % 1440.0
            d = min(d, 1440.0 - d)
            if d > thresh_min:
                shift = off_min
                for k in range(a, b):
                    offset[k] = True
        # participant-days after the clock correction (rows of this participant are still in cache)
        last = -(1 << 62)
        for k in range(a, b):
            dd = (_minute(tns, k, toff) + shift) // 1440
            if dd != last:
                n_days += 1
                last = dd
        a = b
    return n_days


@nb.njit(**_NJ)
def _duplicates(i, b, tns, toff, steps, hr, dup, conflict):
    """Resolve the rows sharing row ``i``'s minute; returns the group's last row.

    Keep max steps, then HR present, then the higher HR: the choice never depends on row order.
    """
    ti = _minute(tns, i, toff)
    j = i + 1
    while j < b and _minute(tns, j, toff) == ti:
        j += 1
    best = i
    diff = False
    for k in range(i + 1, j):
        if steps[k] != steps[i] or not _same(hr[k], hr[i]):
            diff = True
        hb = hr[best] == hr[best]
        hk = hr[k] == hr[k]
        if steps[k] > steps[best]:
            best = k
        elif steps[k] == steps[best]:
            if (hk and not hb) or (hk and hb and hr[k] > hr[best]):
                best = k
    for k in range(i, j):
        dup[k] = k != best
        conflict[k] = diff
    return j - 1


@nb.njit(**_NJ)
def _mark(lo, hi, dup, out, wear):
    for q in range(lo, hi):
        if not dup[q]:
            out[q] = True
            wear[q] = False


@nb.njit(**_NJ)
def _mark_stuck(lo, hi, dup, hr_stuck, hr_clean):
    for q in range(lo, hi):
        if not dup[q]:
            hr_stuck[q] = True
            hr_clean[q] = np.nan


@nb.njit(**_NJ)
def _quiet_runs(a, b, dup, steps, hr, hr_bad, quiet_mode, frame, spike_len, spike_max, stream, nonwear, wear):
    """Mark non-wear in rows [a, b) of one participant from runs of "quiet" kept rows.

    A quiet run of >= ``frame`` rows is non-wear; a non-quiet run of at most
    ``spike_len`` rows with all steps <= ``spike_max`` is absorbed when the
    quiet runs on both sides are at least ``stream`` rows long (Choi) or, with
    stream 0, when a quiet run follows (Troiano's "stop at the 3rd minute").
    """
    m = b - a
    rs = np.empty(m + 1, np.int64)   # run start row
    re = np.empty(m + 1, np.int64)   # run end row (exclusive)
    rl = np.empty(m + 1, np.int64)   # kept rows in run
    rq = np.empty(m + 1, np.bool_)   # quiet?
    rmax = np.empty(m + 1, np.int64)  # max steps in run
    nr = 0
    for k in range(a, b):
        if dup[k]:
            continue
        h = hr[k]
        hr_ok = h == h and not hr_bad[k]
        if quiet_mode == 0:
            q = steps[k] == 0 and not hr_ok
        elif quiet_mode == 1:
            q = not hr_ok
        else:
            q = steps[k] == 0
        if nr > 0 and rq[nr - 1] == q:
            re[nr - 1] = k + 1
            rl[nr - 1] += 1
            if steps[k] > rmax[nr - 1]:
                rmax[nr - 1] = steps[k]
        else:
            rs[nr] = k
            re[nr] = k + 1
            rl[nr] = 1
            rq[nr] = q
            rmax[nr] = steps[k]
            nr += 1
    # absorb allowed spikes
    absorb = np.zeros(nr, np.bool_)
    if spike_len > 0:
        for r in range(1, nr - 1):
            if (not rq[r]) and rl[r] <= spike_len and rmax[r] <= spike_max and rq[r - 1] and rq[r + 1]:
                if rl[r - 1] >= stream and rl[r + 1] >= stream:
                    absorb[r] = True
    r = 0
    while r < nr:
        if not rq[r]:
            r += 1
            continue
        s = r
        total = rl[r]
        while r + 2 < nr and absorb[r + 1] and rq[r + 2]:
            total += rl[r + 1] + rl[r + 2]
            r += 2
        if total >= frame:
            _mark(rs[s], re[r], dup, nonwear, wear)
        r += 1


@nb.njit(**_NJ)
def _day(tns, k, toff, offset, off_min):
    t = tns[k] // 60_000_000_000 + toff
    if offset[k]:
        t += off_min
    return t // 1440


@nb.njit(**_NJ)
def count_days(pid, tns, toff, offset, off_min):
    g = 0
    last = -(1 << 62)
    for i in range(len(pid)):
        d = _day(tns, i, toff, offset, off_min)
        if i == 0 or pid[i] != pid[i - 1] or d != last:
            g += 1
        last = d
    return g


@nb.njit(**_NJ)
def daily_kernel(pid, tns, toff, off_min, dup, conflict, hr_bad, hr_stuck, steps_bad, nonwear, gap, offset, steps_clean, hr_clean,
                 band_of, moderate, vigorous, rest_window, rest_min,
                 g_pid, g_day, g_steps, g_wear, g_rec, g_gap, g_bands, g_mod, g_vig, g_peak1, g_peak30, g_rhr, g_flags):
    """Aggregate participant-days (rows sorted by pid then time; local day = clock-corrected
    ``tns // 60e9 + toff`` // 1440); outputs are preallocated per group.

    ``band_of[s]`` is the cadence band of ``s`` steps/min. Per-day sums live in
    local variables and are written when the day closes.
    """
    n = len(pid)
    hist = np.zeros(len(band_of), np.int64)
    g = -1
    zrun = 0
    i = 0
    while i < n:
        # one participant-day: rows [i, e)
        di = _day(tns, i, toff, offset, off_min)
        e = i + 1
        while e < n and pid[e] == pid[i] and _day(tns, e, toff, offset, off_min) == di:
            e += 1
        if i == 0 or pid[i] != pid[i - 1]:
            zrun = 0
        g += 1
        g_pid[g] = pid[i]
        g_day[g] = di
        hist[:] = 0
        hr_sum = 0.0
        hr_n = 0
        steps = 0
        wear = 0
        rec = 0
        gsum = 0
        mod = 0
        vig = 0
        f0 = f1 = f2 = f3 = f4 = f5 = f6 = f7 = 0
        for k in range(i, e):
            if dup[k]:
                f0 += 1
                f1 += conflict[k]
                continue
            rec += 1
            gk = gap[k]
            gsum += gk
            f1 += conflict[k]
            f2 += hr_bad[k]
            f3 += hr_stuck[k]
            f4 += steps_bad[k]
            nw = nonwear[k]
            f5 += nw
            f6 += gk > 0
            f7 += offset[k]
            sv = steps_clean[k]
            zrun = zrun + 1 if sv == 0 else 0
            if nw:
                continue
            wear += 1
            if sv > 0:
                # zeros are not histogrammed: a store-to-load chain on hist[0] would serialise the loop
                steps += sv
                hist[sv] += 1
                mod += sv >= moderate
                vig += sv >= vigorous
            h = hr_clean[k]
            if zrun >= rest_window and h == h:
                hr_sum += h
                hr_n += 1
        g_steps[g] = steps
        g_wear[g] = wear
        g_rec[g] = rec
        g_gap[g] = gsum
        g_mod[g] = mod
        g_vig[g] = vig
        g_flags[g, 0] = f0
        g_flags[g, 1] = f1
        g_flags[g, 2] = f2
        g_flags[g, 3] = f3
        g_flags[g, 4] = f4
        g_flags[g, 5] = f5
        g_flags[g, 6] = f6
        g_flags[g, 7] = f7
        moving = 0
        for v in range(1, len(hist)):
            if hist[v]:
                g_bands[g, band_of[v]] += hist[v]
                moving += hist[v]
        g_bands[g, band_of[0]] += wear - moving
        _close(g, hist, hr_sum, hr_n, rest_min, g_peak1, g_peak30, g_rhr)
        i = e


@nb.njit(**_NJ)
def _close(g, hist, hr_sum, hr_n, rest_min, g_peak1, g_peak30, g_rhr):
    top = 0
    acc = 0
    v = len(hist) - 1
    peak1 = -1
    while v >= 0 and top < 30:
        c = hist[v]
        if c > 0:
            if peak1 < 0:
                peak1 = v
            take = min(c, 30 - top)
            acc += take * v
            top += take
        v -= 1
    g_peak1[g] = max(peak1, 0)
    g_peak30[g] = acc / 30.0 if top > 0 else 0.0
    g_rhr[g] = hr_sum / hr_n if hr_n >= rest_min else np.nan
