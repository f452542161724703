"""Template versions in Postgres."""

from __future__ import annotations

from codesage.storage.connections import Storage
from codesage.storage.templates import TemplateRepository


async def test_saving_the_same_body_twice_keeps_one_version(storage: Storage) -> None:
    repo = TemplateRepository(storage.pool)
    first = await repo.save("py", "Python", "Backend engineer", {"questions": [1]})
    again = await repo.save("py", "Python", "Backend engineer", {"questions": [1]})
    assert again.id == first.id and again.version == 1


async def test_a_changed_body_becomes_a_new_version(storage: Storage) -> None:
    repo = TemplateRepository(storage.pool)
    await repo.save("py", "Python", "Backend engineer", {"questions": [1]})
    second = await repo.save("py", "Python", "Backend engineer", {"questions": [1, 2]})
    assert second.version == 2
    latest = await repo.latest("py")
    assert latest is not None and latest.body == {"questions": [1, 2]}
    assert [t.version for t in await repo.list_latest()] == [2]
    first = await repo.get(second.id)
    assert first is not None and first.slug == "py"
