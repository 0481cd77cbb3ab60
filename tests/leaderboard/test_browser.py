"""The static page in headless Chromium (file://, no server): tables render, sorting reorders rows,
the charts are there, an injected script does not run. Saves a screenshot (set MMEB_SCREENSHOT_DIR
to keep it)."""

import os
import shutil
from pathlib import Path

import pytest

from mmeb.leaderboard import build_leaderboard
from mmeb.tasks import TASK_NAMES

from lb_helpers import write_model

pytestmark = pytest.mark.browser

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
EVIL = '<script>window.__pwned = 1; document.title = "pwned"</script><img src=x onerror="window.__pwned=2">'


@pytest.fixture(scope="module")
def driver():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (pip install mmeb[test])")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def page(tmp_path_factory, driver):
    root = tmp_path_factory.mktemp("browser")
    results = root / "results"
    write_model(results, EVIL, tasks=TASK_NAMES[:4], url="javascript:window.__pwned=3")
    write_model(results, "org/complete-run", base=0.55)
    lb = build_leaderboard(results, root / "leaderboard")
    driver.get((root / "leaderboard" / "index.html").as_uri())
    return driver, lb


def _column(driver, table_css: str, header_text: str) -> tuple[int, list]:
    from selenium.webdriver.common.by import By

    headers = driver.find_elements(By.CSS_SELECTOR, f"{table_css} thead th.sortable")
    index = next(i for i, h in enumerate(headers) if h.text.startswith(header_text))
    values = [row.find_elements(By.TAG_NAME, "td")[index].get_attribute("data-v")
              for row in driver.find_elements(By.CSS_SELECTOR, f"{table_css} tbody tr")]
    return index, [float(v) if v else None for v in values]


def test_tables_and_charts_render(page):
    from selenium.webdriver.common.by import By

    driver, lb = page
    assert driver.title == "MMEB leaderboard"
    rows = driver.find_elements(By.CSS_SELECTOR, "#b-mmeb-v1 table.overview tbody tr")
    assert len(rows) == len(lb.board("MMEB-V1").rows) > 30
    assert rows[0].is_displayed()
    assert len(driver.find_elements(By.CSS_SELECTOR, "#b-mmeb-v1 table.per-dataset tbody tr")) >= 12
    charts = driver.find_elements(By.CSS_SELECTOR, "#b-mmeb-v1 svg.chart")
    assert len(charts) == 4
    assert len(charts[0].find_elements(By.CSS_SELECTOR, "rect.bar")) > 5
    assert charts[0].size["height"] > 100
    assert "partial (4/36)" in driver.find_element(By.CSS_SELECTOR, "#b-mmeb-v1 table.overview").text
    v2_rows = driver.find_elements(By.CSS_SELECTOR, "#b-mmeb-v2 table.overview tbody tr")
    assert len(v2_rows) == len(lb.board("MMEB-V2").rows) > 0 and v2_rows[0].is_displayed()


def test_clicking_a_header_sorts_rows(page):
    from selenium.webdriver.common.by import By

    driver, _ = page
    index, before = _column(driver, "#b-mmeb-v1 table.overview", "VQA")
    header = driver.find_elements(By.CSS_SELECTOR, "#b-mmeb-v1 table.overview thead th.sortable")[index]
    header.click()
    _, after = _column(driver, "#b-mmeb-v1 table.overview", "VQA")
    known = [v for v in after if v is not None]
    assert known == sorted(known, reverse=True) and after[len(known):] == [None] * (len(after) - len(known))
    assert after != before  # default order is by Overall, not by VQA
    assert header.get_attribute("aria-sort") == "descending"
    header.click()
    _, ascending = _column(driver, "#b-mmeb-v1 table.overview", "VQA")
    known = [v for v in ascending if v is not None]
    assert known == sorted(known) and header.get_attribute("aria-sort") == "ascending"
    model = driver.find_elements(By.CSS_SELECTOR, "#b-mmeb-v1 table.overview thead th.sortable")[1]
    model.click()
    names = [r.find_elements(By.TAG_NAME, "td")[1].text.lower()
             for r in driver.find_elements(By.CSS_SELECTOR, "#b-mmeb-v1 table.overview tbody tr")]
    assert names == sorted(names)


def test_injected_script_does_not_run(page, tmp_path):
    from selenium.webdriver.common.by import By

    driver, _ = page
    assert driver.execute_script("return window.__pwned === undefined")
    assert driver.title == "MMEB leaderboard"
    assert "<script>window.__pwned = 1;" in driver.find_element(By.CSS_SELECTOR, "#b-mmeb-v1 table.overview").text
    assert not driver.find_elements(By.CSS_SELECTOR, "td.model img, td.model script, a[href^='javascript']")
    driver.refresh()  # the screenshot shows the page as a visitor first sees it
    out = Path(os.environ.get("MMEB_SCREENSHOT_DIR", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(out / "leaderboard.png"))
