"""ecs-notebook: compose, preview, submit and track Huawei Cloud ECS OS reinstalls from Jupyter."""

__version__ = "0.1.0"
