#!/usr/bin/python3
"""tests/live/console_ui.py BASE_URL EXPECT.json ARTIFACT_DIR - drives headless
Chromium (Debian's chromium + chromium-driver, python3-selenium) through the
console that test_console.sh started: the Findings list, the filter box (and
its error), a finding's Summary (escaped attacker strings, no script run),
JSON and Related tabs, and a state change. Prints "ok - ..." / "not ok - ..."
lines and "N passed, M failed"; saves the Summary tab as summary.png."""
import json
import sys
import tempfile

from selenium import webdriver
from selenium.common.exceptions import (NoAlertPresentException, NoSuchElementException,
                                        StaleElementReferenceException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, expect_path, artifacts = sys.argv[1], sys.argv[2], sys.argv[3]
expect = json.load(open(expect_path))
passed = failed = 0


def check(desc, cond):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + desc)
    else:
        failed += 1
        print("not ok - " + desc)


def no_alert(drv):
    try:
        drv.switch_to.alert
        return False
    except NoAlertPresentException:
        return True


opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--window-size=1400,2200", "--user-data-dir=" + tempfile.mkdtemp(prefix="cw-chromium-")):
    opts.add_argument(a)
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
drv.set_page_load_timeout(20)
try:
    drv.get(base + "/findings")
    rows = drv.find_elements(By.CSS_SELECTOR, "table.findings tbody tr")
    check("the list shows every finding (%d rows, %d expected)" % (len(rows), expect["total"]),
          len(rows) == expect["total"])
    counts = drv.find_element(By.CSS_SELECTOR, "table.counts").text
    check("counts by category and severity", "Execution: Container Escape" in counts)

    box = drv.find_element(By.ID, "filter")
    box.clear()
    box.send_keys('category="Execution: Container Escape"')
    box.submit()
    rows = drv.find_elements(By.CSS_SELECTOR, "table.findings tbody tr")
    cats = {r.find_elements(By.TAG_NAME, "td")[2].text for r in rows}
    check("the filter box narrows the table (%d rows, categories %s)" % (len(rows), sorted(cats)),
          len(rows) == expect["escapes"] and cats == {"Execution: Container Escape"})

    box = drv.find_element(By.ID, "filter")
    box.clear()
    box.send_keys("state=")
    box.submit()
    # submit() does not wait for the next page: wait for the error element
    try:
        WebDriverWait(drv, 10).until(lambda d: d.find_elements(By.ID, "filter-error"))
    except Exception:
        pass
    err = drv.find_elements(By.ID, "filter-error")
    check("a bad filter shows its error next to the box",
          err and "expected a value" in err[0].text)

    drv.get(base + "/findings/" + expect["xss_id"])
    body = drv.find_element(By.TAG_NAME, "main").text
    check("Summary: program binary and arguments shown",
          "/tmp/botb-linux-amd64" in body and "-autopwn" in body)
    check("Summary: a tool argument <script>alert(1)</script> renders as text",
          "<script>alert(1)</script>" in body)
    check("Summary: a container named <img src=x onerror=alert(2)> renders as text",
          "<img src=x onerror=alert(2)>" in body)
    check("Summary: no attacker script ran", no_alert(drv) and
          not drv.find_elements(By.CSS_SELECTOR, "main script, main img"))
    heads = [h.text for h in drv.find_elements(By.TAG_NAME, "h2")]
    check("Summary: sections %s" % heads, all(s in heads for s in (
        "What was detected", "Affected resource", "Container", "Container settings",
        "MITRE ATT&CK", "Next steps")))
    steps = drv.find_elements(By.CSS_SELECTOR, "ol.steps li")
    check("Summary: next steps as a list (%d)" % len(steps), len(steps) >= 2)
    drv.save_screenshot(artifacts + "/summary.png")

    drv.find_element(By.ID, "tab-json").click()
    doc = json.loads(drv.find_element(By.ID, "finding-json").text)
    check("JSON tab: resource.project_display_name and finding.processes[].binary.path",
          doc["resource"]["project_display_name"] == "cagewatch-local"
          and doc["finding"]["processes"][0]["binary"]["path"] == "/tmp/botb-linux-amd64")

    drv.find_element(By.ID, "tab-related").click()
    rel = drv.find_element(By.ID, "related-count").text
    check("Related tab: %s (%d expected)" % (rel, expect["related"]),
          rel.startswith("%d related" % expect["related"]))

    drv.find_element(By.ID, "tab-summary").click()
    drv.find_element(By.ID, "do-INACTIVE").click()
    try:
        WebDriverWait(drv, 10, ignored_exceptions=(StaleElementReferenceException,
                                                   NoSuchElementException)).until(
            lambda d: d.find_element(By.ID, "state").text == "INACTIVE")
        shown = True
    except Exception:
        shown = False
        print("# after the click: " + drv.current_url + " " + drv.find_element(By.TAG_NAME, "main").text[:300].replace("\n", " "))
    check("state change: the page shows INACTIVE", shown)
finally:
    drv.quit()
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
