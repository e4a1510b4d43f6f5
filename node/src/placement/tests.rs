//! Placement unit tests (being written).
