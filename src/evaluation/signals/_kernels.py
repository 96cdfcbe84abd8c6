"""Numba kernels over participant-sorted minute arrays.

Hand-written because the rules are run-length logic per participant (duplicate
groups, stuck runs, zero-step runs with spike allowances) that no library
vectorises: pandas needs several groupby/shift/cumsum passes (see
``_reference.py``), and the public Choi implementations loop per subject in
Python. Each kernel is one or two linear passes over the rows in (participant
code, minute) order with ties in input order. Arrays stay in input order: a
permutation (``perm``, or ``None`` when the input is already in order) gives the
visiting order, so unsorted input costs one stable sort and no gather or
scatter of the columns.
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


CODE_SHIFT = 40
"""Bits of the sort key below the participant code: minutes relative to the first row, offset by
2**39 (every datetime64[ns] minute lies within 2**29 of any other), so codes below 2**23 fit in int64."""


@nb.njit(**_NJ)
def order_key(pid, tns, toff, key):
    """Fill ``key`` with one int64 per row: (code << 40) + (local minute - first row's minute + 2**39).

    ``key`` is allocated by numpy, which asks for transparent huge pages on large arrays
    (numba's allocator does not; the 4 kB page faults of a fresh 64 MB array cost 2.5x the loop).
    """
    m0 = tns[0] // 60_000_000_000 + toff - (np.int64(1) << 39)
    for i in range(len(pid)):
        key[i] = (np.int64(pid[i]) << 40) + (tns[i] // 60_000_000_000 + toff - m0)


@nb.njit(**_NJ)
def breaks(perm):
    """Positions where the visiting order jumps (``perm[i] != perm[i - 1] + 1``)."""
    c = 0
    for i in range(1, len(perm)):
        if perm[i] != perm[i - 1] + 1:
            c += 1
    return c


@nb.njit(**_NJ)
def gather4(perm, a, b, c, d, oa, ob, oc, od):
    """``o* = *[perm]`` for four arrays in one pass over ``perm`` (outputs preallocated by numpy)."""
    for i in range(len(perm)):
        j = perm[i]
        oa[i] = a[j]
        ob[i] = b[j]
        oc[i] = c[j]
        od[i] = d[j]


@nb.njit(**_NJ)
def gather(perm, a, out):
    for i in range(len(perm)):
        out[i] = a[perm[i]]


@nb.njit(**_NJ)
def scatter12(perm, f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11,
              o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11):
    """``o*[perm[i]] = f*[i]`` for the twelve cleaning outputs, reading ``perm`` once."""
    for i in range(len(perm)):
        j = perm[i]
        o0[j] = f0[i]
        o1[j] = f1[i]
        o2[j] = f2[i]
        o3[j] = f3[i]
        o4[j] = f4[i]
        o5[j] = f5[i]
        o6[j] = f6[i]
        o7[j] = f7[i]
        o8[j] = f8[i]
        o9[j] = f9[i]
        o10[j] = f10[i]
        o11[j] = f11[i]


@nb.njit(**_NJ)
def _same(a, b):
    return a == b or (a != a and b != b)


_ANG = 2.0 * np.pi * np.arange(1440) / 1440.0
COS = np.cos(_ANG)
SIN = np.sin(_ANG)


NS_PER_MIN = 60_000_000_000


@nb.njit(inline="always")
def _at(perm, k):
    """Input row of sorted position ``k``. ``perm=None`` (input already in order) is resolved at
    compile time: numba prunes the branch, so the in-order path pays no indirection."""
    if perm is None:
        return k
    return perm[k]


@nb.njit(**_NJ)
def _minute(tns, perm, k, toff):
    # a literal divisor lets LLVM turn the division into a multiply-shift
    return tns[_at(perm, k)] // 60_000_000_000 + toff


@nb.njit(**_NJ)
def clean_kernel(pid, tns, toff, steps, hr, hr_min, hr_max, steps_max, stuck_len, quiet_mode,
                 frame, spike_len, spike_max, stream, phase_min, thresh_min, min_steps, off_min, cos_t, sin_t,
                 dup, conflict, hr_bad, hr_stuck, steps_bad, nonwear, gap, flag_gap, offset, wear, steps_clean, hr_clean,
                 perm, fb_frame):
    """Fill the output arrays in place; returns the number of participant-days (clock-corrected).

    Every array is in input row order; ``perm`` lists the rows in (participant, minute)
    order (``None``: already in that order), so unsorted input is read and written
    through the permutation and never copied into sorted order.
    ``tns``: UTC (or local) nanoseconds; local minute = ``tns // 60e9 + toff``.
    quiet_mode: 0 = no plausible HR and zero steps (hr_steps), 1 = no plausible HR (hr),
    2 = zero steps (steps / choi / troiano). ``fb_frame`` > 0 with quiet_mode 0: a participant
    with no heart-rate value at all gets quiet_mode 2 with that frame (a step-only device).
    ``cos_t``/``sin_t``: tables over the 1,440 minutes of a day.
    One pass per participant over the inputs; duplicates are resolved when their minute is first met.
    """
    n = len(pid)
    a = 0
    simple_runs = spike_len == 0
    n_days = 0
    while a < n:
        pa = pid[_at(perm, a)]
        b = a + 1
        while b < n and pid[_at(perm, b)] == pa:
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
        p_mode = quiet_mode
        p_frame = frame
        if quiet_mode == 0 and fb_frame > 0:
            p_mode = 2
            p_frame = fb_frame
            for k in range(a, b):
                h = hr[_at(perm, k)]
                if h == h:
                    p_mode = 0
                    p_frame = frame
                    break
        tk = _minute(tns, perm, a, toff)
        for k in range(a, b):
            r = _at(perm, k)
            has_next = k + 1 < b
            tn = _minute(tns, perm, k + 1, toff) if has_next else tk
            if k > grp_end and has_next and tn == tk:
                grp_end = _duplicates(k, b, tns, toff, steps, hr, dup, conflict, perm)
            if k <= grp_end and dup[r]:
                steps_clean[r] = 0
                hr_clean[r] = np.nan
                tk = tn
                continue
            wear[r] = True
            if prev_t >= 0 and tk - prev_t > 1:
                gap[r] = tk - prev_t - 1
                flag_gap[r] = True
            prev_t = tk
            s = steps[r]
            if s < 0 or s > steps_max:
                steps_bad[r] = True
                steps_clean[r] = 0
            else:
                steps_clean[r] = s
                if s > 0:
                    m = tk % 1440
                    sx += s * cos_t[m]
                    sy += s * sin_t[m]
                    tot += s
            h = hr[r]
            present = h == h
            hr_ok = present
            if present and (h < hr_min or h > hr_max):
                hr_bad[r] = True
                hr_clean[r] = np.nan
                hr_ok = False
            else:
                hr_clean[r] = h
            # stuck runs: identical non-missing values on consecutive kept rows
            if present and run_len > 0 and h == run_val:
                run_len += 1
            else:
                if run_len >= stuck_len:
                    _mark_stuck(run_start, k, dup, hr_stuck, hr_clean, perm)
                run_start = k
                run_len = 1 if present else 0
                run_val = h
            if simple_runs:
                if p_mode == 0:
                    q = s == 0 and not hr_ok
                elif p_mode == 1:
                    q = not hr_ok
                else:
                    q = s == 0
                if q:
                    if q_len == 0:
                        q_start = k
                    q_len += 1
                elif q_len > 0:
                    if q_len >= p_frame:
                        _mark(q_start, k, dup, nonwear, wear, perm)
                    q_len = 0
            tk = tn
        if run_len >= stuck_len:
            _mark_stuck(run_start, b, dup, hr_stuck, hr_clean, perm)
        if simple_runs:
            if q_len >= p_frame:
                _mark(q_start, b, dup, nonwear, wear, perm)
        else:
            _quiet_runs(a, b, dup, steps, hr, hr_bad, quiet_mode, frame, spike_len, spike_max, stream, nonwear, wear, perm)
        shift = 0
        if tot >= min_steps:
            phase = np.arctan2(sy, sx) / (2.0 * np.pi) * 1440.0
            d = abs(phase - phase_min) % 1440.0
            d = min(d, 1440.0 - d)
            if d > thresh_min:
                shift = off_min
                for k in range(a, b):
                    offset[_at(perm, k)] = True
        # participant-days after the clock correction (rows of this participant are still in cache)
        last = -(1 << 62)
        for k in range(a, b):
            dd = (_minute(tns, perm, k, toff) + shift) // 1440
            if dd != last:
                n_days += 1
                last = dd
        a = b
    return n_days


@nb.njit(**_NJ)
def _duplicates(i, b, tns, toff, steps, hr, dup, conflict, perm):
    """Resolve the rows sharing sorted row ``i``'s minute; returns the group's last sorted position.

    Keep max steps, then HR present, then the higher HR: the choice never depends on row order.
    """
    ti = _minute(tns, perm, i, toff)
    j = i + 1
    while j < b and _minute(tns, perm, j, toff) == ti:
        j += 1
    best = _at(perm, i)
    first = best
    diff = False
    for k in range(i + 1, j):
        rk = _at(perm, k)
        if steps[rk] != steps[first] or not _same(hr[rk], hr[first]):
            diff = True
        hb = hr[best] == hr[best]
        hk = hr[rk] == hr[rk]
        if steps[rk] > steps[best]:
            best = rk
        elif steps[rk] == steps[best]:
            if (hk and not hb) or (hk and hb and hr[rk] > hr[best]):
                best = rk
    for k in range(i, j):
        rk = _at(perm, k)
        dup[rk] = rk != best
        conflict[rk] = diff
    return j - 1


@nb.njit(**_NJ)
def _mark(lo, hi, dup, out, wear, perm):
    for q in range(lo, hi):
        r = _at(perm, q)
        if not dup[r]:
            out[r] = True
            wear[r] = False


@nb.njit(**_NJ)
def _mark_stuck(lo, hi, dup, hr_stuck, hr_clean, perm):
    for q in range(lo, hi):
        r = _at(perm, q)
        if not dup[r]:
            hr_stuck[r] = True
            hr_clean[r] = np.nan


@nb.njit(**_NJ)
def _quiet_runs(a, b, dup, steps, hr, hr_bad, quiet_mode, frame, spike_len, spike_max, stream, nonwear, wear, perm):
    """Mark non-wear in sorted rows [a, b) of one participant from runs of "quiet" kept rows.

    A quiet run of >= ``frame`` rows is non-wear; a non-quiet run of at most
    ``spike_len`` rows with all steps <= ``spike_max`` is absorbed when the
    quiet runs on both sides are at least ``stream`` rows long (Choi) or, with
    stream 0, when a quiet run follows (Troiano's "stop at the 3rd minute").
    """
    m = b - a
    rs = np.empty(m + 1, np.int64)   # run start (sorted position)
    re = np.empty(m + 1, np.int64)   # run end (exclusive)
    rl = np.empty(m + 1, np.int64)   # kept rows in run
    rq = np.empty(m + 1, np.bool_)   # quiet?
    rmax = np.empty(m + 1, np.int64)  # max steps in run
    nr = 0
    for k in range(a, b):
        r = _at(perm, k)
        if dup[r]:
            continue
        h = hr[r]
        hr_ok = h == h and not hr_bad[r]
        if quiet_mode == 0:
            q = steps[r] == 0 and not hr_ok
        elif quiet_mode == 1:
            q = not hr_ok
        else:
            q = steps[r] == 0
        if nr > 0 and rq[nr - 1] == q:
            re[nr - 1] = k + 1
            rl[nr - 1] += 1
            if steps[r] > rmax[nr - 1]:
                rmax[nr - 1] = steps[r]
        else:
            rs[nr] = k
            re[nr] = k + 1
            rl[nr] = 1
            rq[nr] = q
            rmax[nr] = steps[r]
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
            _mark(rs[s], re[r], dup, nonwear, wear, perm)
        r += 1


@nb.njit(**_NJ)
def _day(tns, perm, k, toff, offset, off_min):
    r = _at(perm, k)
    t = tns[r] // 60_000_000_000 + toff
    if offset[r]:
        t += off_min
    return t // 1440


@nb.njit(**_NJ)
def count_days(pid, tns, toff, offset, off_min, perm):
    g = 0
    last = -(1 << 62)
    prev = -1
    for i in range(len(pid)):
        d = _day(tns, perm, i, toff, offset, off_min)
        p = pid[_at(perm, i)]
        if i == 0 or p != prev or d != last:
            g += 1
        last = d
        prev = p
    return g


@nb.njit(**_NJ)
def daily_kernel(pid, tns, toff, off_min, dup, conflict, hr_bad, hr_stuck, steps_bad, nonwear, gap, offset, steps_clean, hr_clean,
                 band_of, moderate, vigorous, rest_window, rest_min,
                 g_pid, g_day, g_steps, g_wear, g_rec, g_gap, g_bands, g_mod, g_vig, g_peak1, g_peak30, g_rhr, g_flags,
                 perm):
    """Aggregate participant-days (rows visited in (pid, time) order through ``perm``, ``None`` when
    already sorted; local day = clock-corrected ``tns // 60e9 + toff`` // 1440); outputs are
    preallocated per group.

    ``band_of[s]`` is the cadence band of ``s`` steps/min. Per-day sums live in
    local variables and are written when the day closes.
    """
    n = len(pid)
    hist = np.zeros(len(band_of), np.int64)
    g = -1
    zrun = 0
    i = 0
    prev_pid = -1
    while i < n:
        # one participant-day: sorted rows [i, e)
        pi = pid[_at(perm, i)]
        di = _day(tns, perm, i, toff, offset, off_min)
        e = i + 1
        while e < n and pid[_at(perm, e)] == pi and _day(tns, perm, e, toff, offset, off_min) == di:
            e += 1
        if i == 0 or pi != prev_pid:
            zrun = 0
        prev_pid = pi
        g += 1
        g_pid[g] = pi
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
        for kk in range(i, e):
            k = _at(perm, kk)
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
