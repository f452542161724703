"""Loads template files into Postgres, so that every node serves the same versions."""

from __future__ import annotations

from pathlib import Path

from codesage.agents.template import SHIPPED_TEMPLATES_DIR, load_templates
from codesage.storage.templates import TemplateRecord, TemplateRepository


async def seed_templates(
    repository: TemplateRepository, folder: Path = SHIPPED_TEMPLATES_DIR
) -> list[TemplateRecord]:
    """Store each template of `folder` (a new version only when its content changed)."""
    records = []
    for template in load_templates(folder):
        records.append(
            await repository.save(
                template.slug, template.title, template.role, template.model_dump(mode="json")
            )
        )
    return records
