"""The AI interviewer's brain: templates, scoring, adaptive selection, follow-ups and hints."""
