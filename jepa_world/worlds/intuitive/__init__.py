"""Violation-of-expectation stimuli: matched quadruplets (IntPhys-style) and open-view pairs.

Why matched: in a simple synthetic world a copy-last-frame pixel-novelty score already flags an
open-view teleport or vanish, so such a test says nothing about a model. Each test here is a
quadruplet of two possible clips A, B and two impossible clips C, D cut from the same segments:
every segment appears once among the possible and once among the impossible clips, and every
splice falls on a frame where the joined clips are pixel-identical (the target is fully behind an
occluder and the distractors are the same). Any score that adds up a per-frame function of
consecutive frames (pixel novelty, surprise of a one-step predictor) therefore ties exactly:
``S(C) + S(D) == S(A) + S(B)``. Only a model that expects what is hidden to behave can rank the
impossible pair higher. Each impossible clip equals its possible twin (C ~ A, D ~ B) before the
divergence frame, the first frame after the (first) splice where A and B differ.

One small module per stimulus design (T = ``frames``; the target is the test ball, slot 0):
:mod:`.permanence`, :mod:`.continuity`, :mod:`.solidity`, :mod:`.gravity`, :mod:`.colour` and
:mod:`.open_view` (the easy subset: teleport, vanish, colour flip, no occluder), registered by name
in :mod:`.registry`. :mod:`.crossing` plans the occluder crossings they share, :mod:`.distractors`
dresses every scene, :mod:`.world` runs the build loop.

Each plan is verified on the rendered pixels and re-drawn (a new attempt for that seed) if any
requirement fails. Conditioning on feasibility skews the target's geometry (see ``geometry`` in
the outputs): a ball must be seen, hidden for >= ``occlusion[0]`` frames and seen again within T
frames, which favours smaller, faster balls and wider occluders.
"""

from __future__ import annotations

from jepa_world.worlds.intuitive.registry import OPEN_VIEW_KINDS, PROPERTIES
from jepa_world.worlds.intuitive.world import POSSIBLE, IntuitivePhysics

__all__ = ["OPEN_VIEW_KINDS", "POSSIBLE", "PROPERTIES", "IntuitivePhysics"]
