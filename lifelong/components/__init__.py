"""Reusable pieces that strategies compose: penalties, importance estimates, distillation."""
