"""RLEF: grounding code LLMs in execution feedback with reinforcement learning (Gehring et al., ICML 2025).

Layers point one way: data -> execution -> feedback -> rollout -> ppo -> experience -> iteration
-> lightning (the only folder importing Lightning) -> the tasks -> run.
"""
__version__ = "0.1.0"
