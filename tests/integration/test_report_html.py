"""Issue 9, the HTML report: `lwk-report --format html` writes one
self-contained file (no scripts, no fonts, nothing fetched) that headless
Chromium renders with non-empty charts: trend lines with the pass mark, a
heatmap, gap bars, action bars; suppressed cells marked "onderdrukt"; a
screenshot that is not blank; and a printable PDF.

Exits 77 (skipped) when Chromium is not installed (scripts/deps.sh installs
the Debian package chromium)."""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

from lwktest import run
from test_analysis import SECRET, Fixture
from test_report import LWK_REPORT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(*args):
    profile = tempfile.mkdtemp(prefix="lwk-chromium-")
    try:
        p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking", "--disable-component-update",
                            "--disable-sync", "--user-data-dir=" + profile] + list(args),
                           capture_output=True, timeout=120)
        return p
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def html_report_renders_with_charts():
    fx = Fixture()
    tmp = tempfile.mkdtemp(prefix="lwk-report-html-")
    try:
        out = os.path.join(tmp, "rapport.html")
        env = dict(os.environ, LANGUAGE="nl", LANG="nl_NL.UTF-8", LC_ALL="")
        p = subprocess.run([LWK_REPORT, "--db", fx.conninfo(fx.analyst_a), "--format", "html", "-o", out,
                            "--from", "2024-01-01", "--to", "2024-12-31"], capture_output=True, text=True, env=env)
        assert p.returncode == 0, p.stderr
        html = open(out, encoding="utf-8").read()
        # Self-contained: nothing to fetch, nothing to run.
        lowered = html.lower()
        for bad in ("<script", "src=", "href=", "@import", "url(", "<link", "@font-face"):
            assert bad not in lowered, bad
        assert set(re.findall(r"https?://[^\"' ]+", html)) <= {"http://www.w3.org/2000/svg"}
        assert SECRET not in html and "deelnemer" not in html
        assert '<html lang="nl">' in html and "Rapportage leerwerkklimaat" in html
        assert "onderdrukt" in html and "@media print" in html

        # What the browser made of it.
        p = chromium("--dump-dom", "file://" + out)
        assert p.returncode == 0, p.stderr[-2000:]
        dom = p.stdout.decode("utf-8")
        trend = dom[dom.index('id="trend"'):dom.index('id="heatmap"')]
        lines = re.findall(r'<path class="cur" d="([^"]*)"', trend)
        assert len(lines) == 2 and all(d.strip().startswith("M") and "L" in d for d in lines), lines
        assert len(re.findall(r'<path class="des" d="M[^"]+"', trend)) == 2
        assert trend.count('class="pass"') == 2 and len(re.findall(r'<circle class="dot"', trend)) == 4
        heat = dom[dom.index('id="heatmap"'):dom.index('id="gaps"')]
        cells = re.findall(r'<rect class="cell( sup| none)?"', heat)
        # The latest quarter: Team Een and Team Klein by two items; Klein has
        # no number (suppressed) for one and no data for the other.
        assert len(cells) == 4, cells
        assert cells.count(" sup") == 1 and cells.count(" none") == 1, cells
        assert "Team Klein" in heat and "\u2014" in heat
        gaps = dom[dom.index('id="gaps"'):dom.index('id="actions"')]
        assert len(re.findall(r'<rect class="bar cur"', gaps)) == 2, gaps[:2000]
        assert len(re.findall(r'<rect class="bar des"', gaps)) == 0  # no desired score in Q2
        actions = dom[dom.index('id="actions"'):dom.index('id="themes"')]
        bars = re.findall(r'<rect class="bar" x="[\d.]+" y="[\d.]+" width="([\d.]+)"', actions)
        assert len(bars) == 4 and all(float(w) > 0 for w in bars), bars  # Q1: done, in progress, open, dropped
        assert "onderdrukt" in actions  # Q2: the small team's action only
        part = dom[dom.index('id="participation"'):dom.index('id="change"')]
        assert len(re.findall(r'<rect class="bar"', part)) == 2

        # A screenshot that is not blank, and a printable PDF.
        png = os.path.join(tmp, "rapport.png")
        p = chromium("--screenshot=" + png, "--window-size=1200,1600", "file://" + out)
        assert p.returncode == 0 and os.path.exists(png), p.stderr[-2000:]
        w, h, bpp, rows = png_pixels(png)
        assert (w, h) == (1200, 1600), (w, h)
        inked = sum(1 for row in rows[::4] for x in range(0, w * bpp, 4 * bpp) if min(row[x:x + 3]) < 200)
        colours = {row[x:x + 3] for row in rows[::8] for x in range(0, w * bpp, 8 * bpp)}
        assert inked > 2000 and len(colours) > 50, (inked, len(colours))
        pdf = os.path.join(tmp, "rapport.pdf")
        p = chromium("--print-to-pdf=" + pdf, "--no-pdf-header-footer", "file://" + out)
        assert p.returncode == 0 and os.path.getsize(pdf) > 10000, p.stderr[-2000:]
        pages = len(re.findall(rb"/Type\s*/Page[^s]", open(pdf, "rb").read()))
        assert pages >= 2, pages
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        fx.drop()


if __name__ == "__main__":
    if not CHROMIUM:
        print("chromium not installed (apt-get install chromium): skipped")
        sys.exit(77)
    run([html_report_renders_with_charts])
