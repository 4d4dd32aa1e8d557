"""Results of the Worker Wellbeing pulse, per wave and area, with small numbers withheld.

Each worker's score in an area is the mean of the questions they answered in it (1-5; 0 is
a skipped question and counts for nothing). Per area: n (workers with a score), the mean
of their scores, and the share "favourable" (a score of 4 or more). The site score is the
mean of the three area means. An area with fewer than k workers shows only "fewer than k",
and then there is no site score: the Worker Wellbeing Assessment's rule that cells under 10
are suppressed. Response rate is workers who answered at least one question over workers
invited; drop-off is how many reached and answered each question.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance.models import WellbeingResponse, WellbeingWave

AREAS: dict[str, tuple[str, str]] = {
    "safety": ("safety_1", "safety_2"),
    "respect": ("respect_1", "respect_2"),
    "income": ("income_1", "income_2"),
}
AREA_LABELS = {
    "safety": "Safety at work",
    "respect": "Respect",
    "income": "Income security and progression",
}
QUESTIONS = tuple(q for pair in AREAS.values() for q in pair)
QUESTION_LABELS = {
    "safety_1": "Safe from injury at work",
    "safety_2": "Can refuse dangerous work without punishment",
    "respect_1": "Supervisors treat me with respect",
    "respect_2": "Can raise a problem without fear",
    "income_1": "Paid in full and on time",
    "income_2": "Can save or improve my situation",
}
FAVOURABLE = 4.0


@dataclass(frozen=True)
class AreaResult:
    """One area of one wave; ``mean`` and ``favourable`` are None when n is under k."""

    area: str
    label: str
    n: int
    mean: float | None
    favourable: float | None

    @property
    def shown(self) -> bool:
        """Whether the figures may be shown (n is at least k)."""
        return self.mean is not None


@dataclass(frozen=True)
class QuestionReach:
    """How many workers reached a question and how many answered it (not 0)."""

    question: str
    label: str
    reached: int
    answered: int


@dataclass(frozen=True)
class WaveResult:
    """Everything shown about one wave."""

    wave_id: int
    wave: int
    month: str
    k: int
    invited: int
    responded: int
    areas: tuple[AreaResult, ...]
    site_score: float | None
    reach: tuple[QuestionReach, ...]
    said_more: int
    reported: int

    @property
    def response_rate(self) -> float | None:
        """Workers who answered at least one question, over workers invited."""
        return self.responded / self.invited if self.invited else None

    @property
    def shareable(self) -> bool:
        """Every area has at least k workers, so the results can go back to the workers."""
        return all(area.shown for area in self.areas)

    def small(self, count: int) -> str:
        """A count as it may be shown: under k it is only "<k"."""
        return f"<{self.k}" if 0 < count < self.k else str(count)


def area_results(answers: list[dict[str, int]], k: int) -> tuple[AreaResult, ...]:
    """Per area: n, mean and share favourable over the workers' own area scores."""
    found = []
    for area, questions in AREAS.items():
        scores = []
        for response in answers:
            given = [response[q] for q in questions if 1 <= response.get(q, 0) <= 5]
            if given:
                scores.append(statistics.fmean(given))
        shown = len(scores) >= k
        found.append(
            AreaResult(
                area=area,
                label=AREA_LABELS[area],
                n=len(scores),
                mean=statistics.fmean(scores) if shown else None,
                favourable=sum(s >= FAVOURABLE for s in scores) / len(scores) if shown else None,
            )
        )
    return tuple(found)


def wave_results(session: Session, wave: WellbeingWave, k: int) -> WaveResult:
    """The results of one wave, small numbers withheld."""
    rows = session.execute(
        select(
            WellbeingResponse.answers, WellbeingResponse.said_more, WellbeingResponse.reported
        ).where(WellbeingResponse.wave_id == wave.id)
    ).all()
    answers = [dict(row.answers or {}) for row in rows]
    responded = [a for a in answers if any(1 <= v <= 5 for v in a.values())]
    areas = area_results(responded, k)
    means = [area.mean for area in areas]
    site_score = (
        statistics.fmean(m for m in means if m is not None)
        if all(m is not None for m in means)
        else None
    )
    reach = tuple(
        QuestionReach(
            question=q,
            label=QUESTION_LABELS[q],
            reached=sum(q in a for a in answers),
            answered=sum(1 <= a.get(q, 0) <= 5 for a in answers),
        )
        for q in QUESTIONS
    )
    return WaveResult(
        wave_id=wave.id,
        wave=wave.wave,
        month=f"{wave.created_at:%Y-%m}",
        k=k,
        invited=wave.invited,
        responded=len(responded),
        areas=areas,
        site_score=site_score,
        reach=reach,
        said_more=sum(bool(row.said_more) for row in rows),
        reported=sum(bool(row.reported) for row in rows),
    )


def site_trend(session: Session, site_id: int, k: int) -> list[WaveResult]:
    """Every wave of a site, oldest first: the trend across waves."""
    waves = session.scalars(
        select(WellbeingWave).where(WellbeingWave.site_id == site_id).order_by(WellbeingWave.wave)
    ).all()
    return [wave_results(session, wave, k) for wave in waves]
