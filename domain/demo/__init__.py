"""Demo data: a province of counties with realistic organisation, pupils, guardians, counselors.

`plan` decides a county's shape from a seed (Huishui's proportions), `populate` writes it
school by school as resumable steps, `province` onboards the demo counties and summarises.
"""

from domain.demo.populate import populate_county
from domain.demo.province import CountySummary, DemoSummary, build_demo, summarize_county

__all__ = ["CountySummary", "DemoSummary", "build_demo", "populate_county", "summarize_county"]
