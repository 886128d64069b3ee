"""The unified-paradigm study (paper §5.2) at toy scale: `study.py` runs it over a recipe run's SFT
checkpoint, `stats.py` holds its statistics, `report.py` writes findings.md. It reads the recipe's
outputs (through `seekmath.stages`) and never imports the recipe: `seekmath run --config findings`
(recipe.py) runs the stages up to sft, then calls `study.run_study`.
"""
