"""Problems and tests. No torch, no processes."""
from rlef.data.problem import Test

__all__ = ["Test"]
