"""axe-core in the browser tests: load the vendored axe.min.js, run it, describe what it found."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, Page

AXE_VERSION = "4.14.1"
AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA: what issue 12 asks every page to pass; and axe's best
# practices, which hold what WCAG leaves to judgement: landmarks (one main, unique names,
# everything inside one), headings in order and a first-level one, no empty table headers.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TAGS = [*WCAG_TAGS, "best-practice"]

_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return {
    version: axe.version,
    violations: results.violations.map(v => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary || ''})),
    })),
  };
}"""


def add_axe(context: BrowserContext) -> None:
    """Make ``axe`` available in every page of the context. An init script, not a script tag:
    Playwright runs init scripts past the page's Content-Security-Policy, which forbids
    inline scripts (and the check must not weaken the policy it checks under)."""
    context.add_init_script(path=str(AXE_JS))


def violations(page: Page) -> list[dict]:
    """axe's violations of WCAG 2.1 A and AA and of its best practices, on the page as it is."""
    result = page.evaluate(_RUN, TAGS)
    assert result["version"] == AXE_VERSION, f"loaded axe {result['version']}"
    return result["violations"]


def describe(found: list[dict], where: str) -> list[str]:
    """One line per violation and element: where, rule, impact, selector, what to do."""
    lines = []
    for violation in found:
        for node in violation["nodes"]:
            target = " ".join(
                " >> ".join(part) if isinstance(part, list) else part for part in node["target"]
            )
            summary = " ".join(node["summary"].split())
            lines.append(
                f"{where}: {violation['id']} ({violation['impact']}) at {target}: "
                f"{violation['help']}. {summary} [{violation['helpUrl']}]"
            )
    return lines
