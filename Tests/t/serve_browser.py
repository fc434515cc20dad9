#!/usr/bin/env python3
"""Drives Debian's headless chromium through quilt serve's pages, as a person would: links followed by their text,
the compare form submitted, and what is on the screen checked (texts, table cells, an image's natural size).
A screenshot of every page is saved to SHOTS/NAME-<step>.png.

    serve_browser.py --url http://127.0.0.1:PORT/ --shots DIR --name NAME CHECKS

CHECKS (one of):
    local TOP1 TOP2   the local package t/pkg of t8010 (two revisions; a README, a CSV, an image, a hostile key)
    s3 PACKAGE TOP    a package quilt3 pushed (its README and file names from the test)

Exit status 0 when every check held; else 1, each failed check on stderr. Needs selenium (.venv) and chromium with
chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver); exit 2 when they cannot be started.
"""
import argparse
import os
import sys

# Selenium Manager would look for drivers on the network: the driver is named, and it must stay offline.
os.environ["SE_OFFLINE"] = "true"

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoAlertPresentException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr)
    return condition


class Visit:
    def __init__(self, driver, url, shots, name):
        self.driver, self.url, self.shots, self.name, self.step = driver, url.rstrip("/"), shots, name, 0

    def shot(self, label):
        self.step += 1
        path = os.path.join(self.shots, f"{self.name}-{self.step:02d}-{label}.png")
        self.driver.save_screenshot(path)

    def go(self, path, label):
        self.driver.get(self.url + path)
        self.after(label)

    def click(self, text, label):
        """Follows the link whose visible text is `text` exactly."""
        links = self.driver.find_elements(By.LINK_TEXT, text)
        if not check(links, f"{self.title()}: a link '{text}'"):
            return False
        links[0].click()
        self.after(label)
        return True

    def after(self, label):
        self.no_alert()
        self.no_script_ran()
        self.shot(label)

    def title(self):
        return self.driver.current_url

    def text(self, css):
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)]

    def body(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def no_alert(self):
        try:
            alert = self.driver.switch_to.alert
            check(False, f"{self.title()}: an alert opened ({alert.text!r})")
            alert.dismiss()
        except NoAlertPresentException:
            pass

    def no_script_ran(self):
        # A page of the browser has no script of its own: any <script> element, or one that ran, is an injection.
        check(not self.driver.find_elements(By.TAG_NAME, "script"), f"{self.title()}: a <script> element is in the page")


def local_checks(v, top1, top2):
    v.go("/", "home")
    check(v.driver.title.startswith("Packages") or "t/pkg" in v.body(), "home: lists t/pkg")
    rows = v.text("table.packages tbody tr")
    check(any(r.startswith("t/pkg ") and top2[:10] in r and "second" in r for r in rows), f"home: the t/pkg row ({rows})")

    v.click("t/pkg", "package")
    body = v.body()
    check("Demo" in v.text(".markdown h1"), "package: the README's heading rendered")
    check("<script>alert(1)</script>" in body, "package: the README's script shown as text")
    check('"you"' in " ".join(v.text("section.meta .value")), "package: user_meta owner shown")
    check(f"quilt+file://" in " ".join(v.text("code.copy")) and top2 in " ".join(v.text("code.copy")),
          "package: the Quilt+ URI")
    names = v.text("table.listing tbody td:first-child")
    for name in ["sub/", "table.csv", "pic.png", "README.md", "weird/"]:
        check(name in names, f"package: '{name}' in the file list ({names})")

    v.click("sub/", "directory")
    names = v.text("table.listing tbody td:first-child")
    check(names == ["../", "t.tsv"], f"directory sub/: its one file ({names})")
    v.click("t.tsv", "tsv")
    check(v.text("section.preview th") == ["x", "y"], f"t.tsv: header cells ({v.text('section.preview th')})")

    v.go(f"/packages/t/pkg/@{top2}/file/table.csv", "csv")
    check(v.text("section.preview th") == ["a", "b", "c"], f"table.csv: header cells ({v.text('section.preview th')})")
    cells = v.text("section.preview td")
    check(cells == ["1", "2", "3", "4", "x,<y>", "6"], f"table.csv: body cells ({cells})")
    download = v.driver.find_elements(By.LINK_TEXT, "Download")
    check(download and download[0].get_attribute("href").endswith("/download/table.csv"), "table.csv: a Download link")

    v.go(f"/packages/t/pkg/@{top2}/file/pic.png", "image")
    images = v.driver.find_elements(By.CSS_SELECTOR, "section.preview img")
    if check(images, "pic.png: an <img> in the preview"):
        size = v.driver.execute_script(
            "const i = arguments[0]; return i.complete ? [i.naturalWidth, i.naturalHeight] : null;", images[0])
        check(size == [7, 3], f"pic.png: the image's natural size is 7x3 ({size})")

    v.go(f"/packages/t/pkg/@{top2}/file/page.html", "html-as-text")
    check("<script>alert(1)</script>" in " ".join(v.text("pre.text")), "page.html: shown as text")

    v.go(f"/packages/t/pkg/@{top2}/tree/weird/", "hostile-dir")
    hostile = "<script>alert(1)<_script> ?#%.txt"
    if v.click(hostile, "hostile-file"):
        check(v.text("h1") == [hostile], f"the hostile key's page: its name as the heading ({v.text('h1')})")

    # The compare page, by the form on the revision list, as a person picks two revisions.
    v.go("/packages/t/pkg/", "package-again")
    revisions = [a for a in v.driver.find_elements(By.CSS_SELECTOR, "p.revision a") if a.text.endswith("revisions")]
    if check(revisions, "package: a link to its revisions"):
        check(revisions[0].text == "2 revisions", f"package: '2 revisions' ({revisions[0].text})")
        revisions[0].click()
        v.after("revisions")
    rows = v.text("table.revisions tbody tr")
    check(len(rows) == 2 and "second" in rows[0] and "first <b>" in rows[1], f"revisions: two, newest first ({rows})")
    form = v.driver.find_elements(By.CSS_SELECTOR, "form.compare")
    if check(form, "revisions: a compare form"):
        Select(form[0].find_element(By.NAME, "from")).select_by_value(top1)
        Select(form[0].find_element(By.NAME, "to")).select_by_value(top2)
        form[0].find_element(By.CSS_SELECTOR, "button, input[type=submit]").click()
        v.after("compare")
        summary = " ".join(v.text("p.summary"))
        check(summary == "3 added, 0 modified, 0 deleted", f"compare: the summary ({summary})")
        added = v.text("section.changes.added li")
        check("more.txt" in added, f"compare: more.txt added ({added})")
        meta = v.text("table.diff tbody tr")
        check(any(r.startswith("user_meta.owner") and '"<me>"' in r and '"you"' in r for r in meta),
              f"compare: the owner's change ({meta})")


def s3_checks(v, package, top):
    v.go("/", "home")
    rows = v.text("table.packages tbody tr")
    check(any(r.startswith(package + " ") and top[:10] in r for r in rows), f"home: the {package} row ({rows})")
    v.click(package, "package")
    check("From quilt3" in v.text(".markdown h1"), "package: quilt3's README rendered")
    names = v.text("table.listing tbody td:first-child")
    check("data/" in names and "README.md" in names, f"package: its files ({names})")
    v.click("data/", "directory")
    v.click("rows.csv", "csv")
    check(v.text("section.preview th") == ["id", "name"], f"rows.csv: header cells ({v.text('section.preview th')})")
    check(v.text("section.preview td")[:2] == ["1", "alpha"], f"rows.csv: first row ({v.text('section.preview td')[:2]})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--shots", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("checks", nargs="+")
    args = parser.parse_args()
    os.makedirs(args.shots, exist_ok=True)

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--no-first-run", "--disable-extensions"]:
        options.add_argument(argument)
    try:
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    except WebDriverException as error:
        print(f"cannot start chromium: {error.msg}", file=sys.stderr)
        return 2
    driver.set_page_load_timeout(60)
    try:
        visit = Visit(driver, args.url, args.shots, args.name)
        if args.checks[0] == "local":
            local_checks(visit, *args.checks[1:])
        elif args.checks[0] == "s3":
            s3_checks(visit, *args.checks[1:])
        else:
            print(f"unknown checks {args.checks[0]!r}", file=sys.stderr)
            return 64
        # What the browser itself refused (a CSP violation shows up here as a SEVERE console message).
        for entry in driver.get_log("browser"):
            check(entry["level"] != "SEVERE" or "favicon" in entry["message"], f"console: {entry['message']}")
    finally:
        driver.quit()
    print(f"{len(failures)} failed checks")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
