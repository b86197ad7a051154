"""Numerical layer of the modality-gap proof checker.

Modules (one concept each): geometry (spheres, subspaces, principal angles, rotations),
objective (symmetric InfoNCE), vmf (von Mises-Fisher facts), metrics (gap measures),
solvers and certificates (constrained minimisation and its global lower bounds),
alignment (post-hoc operators: SSP, rotation, translation, removal, centring).
"""
