"""seekmath: the DeepSeekMath recipe — corpus mining, continued pretraining, SFT, GRPO, evaluation."""

__version__ = "0.1.0"
