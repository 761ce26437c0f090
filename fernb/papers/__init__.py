"""One module (or package) per paper: its printed numbers, its recipes per profile (:mod:`fernb.papers.recipes`),
its experiment drivers, its figures and the verdicts computed from measurements. Chapters call these; nothing
below this floor imports them (ARCHITECTURE.md)."""
