"""Helpers for browser tests: a running Jupyter server and the steps of driving it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout


@dataclass
class Lab:
    """A running Jupyter server: its URL, token and the folder it serves."""

    url: str
    token: str
    root: Path
    env: dict[str, str]

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"token {self.token}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def reset_kernels(self) -> None:
        """Delete every session and kernel: kernels outlive pages otherwise."""
        for session in self.api("GET", "/api/sessions").json():
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels").json():
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def copy(self, name: str) -> str:
        """A fresh copy of a notebook (tests that save must not touch the shared one)."""
        response = self.api("POST", "/api/contents/", json={"copy_from": name})
        response.raise_for_status()
        return str(response.json()["path"])

    def saved(self, name: str) -> dict[str, Any]:
        return dict(json.loads((self.root / name).read_text()))


def open_notebook(page: Any, lab: Lab, path: str) -> None:
    """Open ``path`` in JupyterLab with a fresh workspace and wait for an idle kernel."""
    page.goto(f"{lab.url}/lab/tree/{path}?reset&token={lab.token}")
    page.get_by_role("button", name=re.compile(r"\| Idle$")).wait_for(timeout=60_000)


def run_all(page: Any) -> None:
    """Run -> Run All Cells through the menu (the command palette was flaky), once idle."""
    for attempt in range(2):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
        try:
            page.wait_for_function(
                "() => { const p = document.querySelector('.jp-CodeCell .jp-InputPrompt');"
                " return p && p.textContent.trim() !== '[ ]:'; }",
                timeout=20_000,
            )
            return
        except PlaywrightTimeout:
            if attempt:
                raise


def wait_idle(page: Any, timeout: float = 120_000) -> None:
    """Wait until no cell shows ``[*]``."""
    page.wait_for_function(
        "() => !Array.from(document.querySelectorAll('.jp-InputPrompt'))"
        ".some(p => p.textContent.includes('[*]'))",
        timeout=timeout,
    )


def assert_no_widget_errors(page: Any) -> None:
    body = page.inner_text("body")
    assert "Error displaying widget" not in body
    assert (
        page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).count()
        == 0
    )


def run_to_the_end(page: Any, timeout: float = 180_000) -> None:
    """Run every cell and wait until none is running."""
    run_all(page)
    wait_idle(page, timeout)


#: Elements whose own text must be whole: labels, buttons, table headers, toggle buttons,
#: the picker's cells (text wider than its box, shown or hidden, is cut or overlaps).
CLIPPED_JS = r"""
() => {
  const out = [];
  const root = document.querySelectorAll(
    '.jp-OutputArea-output, .jp-RenderedHTMLCommon, #rendered_cells, .voila-cell');
  const seen = new Set();
  for (const area of root) {
    for (const el of area.querySelectorAll(
        'button, label, .widget-label, .widget-label-basic, th, .widget-toggle-button,' +
        ' .widget-html-content b, .jupyter-button, .ecs-chip, .ecs-prow span')) {
      if (seen.has(el)) continue;
      seen.add(el);
      const text = (el.innerText || '').trim();
      if (!text) continue;
      const style = getComputedStyle(el);
      if (style.display === 'none' || el.offsetParent === null) continue;
      if (style.overflowX === 'auto' || style.overflowX === 'scroll') continue;
      // Text cut inside its own box (ellipsis or hidden overflow) ...
      if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
        out.push({text, why: 'cut', scroll: el.scrollWidth, client: el.clientWidth});
        continue;
      }
      // ... or hanging out of an ancestor that hides its overflow (not a scroll box).
      const box = el.getBoundingClientRect();
      for (let p = el.parentElement; p && p !== area.parentElement; p = p.parentElement) {
        const ps = getComputedStyle(p);
        if (ps.overflowX === 'auto' || ps.overflowX === 'scroll') break;
        if (ps.overflowX === 'hidden' || ps.overflowX === 'clip') {
          const pb = p.getBoundingClientRect();
          if (box.right > pb.right + 1 || box.left < pb.left - 1) {
            out.push({text, why: 'hidden by ' + p.className, right: box.right, edge: pb.right});
          }
          break;
        }
      }
    }
  }
  return out;
}
"""

#: Pairs of side-by-side boxes that must not overlap.
OVERLAP_JS = r"""
() => {
  const out = [];
  const form = document.querySelector('.ecs-form');
  const preview = document.querySelector('.ecs-preview');
  if (form && preview) {
    const a = form.getBoundingClientRect(), b = preview.getBoundingClientRect();
    const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    if (overlap) out.push({form: [a.left, a.right], preview: [b.left, b.right]});
  }
  return out;
}
"""


def assert_nothing_clipped(page: Any, width: int) -> None:
    """At ``width`` px: no label, button or header text cut, form and preview apart."""
    page.set_viewport_size({"width": width, "height": 1000})
    # Two animation frames: the browser has laid the page out again at the new width.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    clipped = page.evaluate(CLIPPED_JS)
    assert clipped == [], f"clipped at {width} px: {clipped[:10]}"
    assert page.evaluate(OVERLAP_JS) == [], f"form and preview overlap at {width} px"
