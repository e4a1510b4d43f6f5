//! Property tests: `apply` agrees with a deliberately simple model, and two
//! replicas fed the same log reach the same state and hash.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// The model: just what a reader can observe of each fleet.
#[derive(Debug, Clone, PartialEq)]
struct ModelFleet {
    name: String,
    deleting: bool,
}

#[derive(Debug, Default)]
struct Model {
    fleets: BTreeMap<String, ModelFleet>,
    tokens: BTreeMap<String, (String, String)>, // token -> (fleet id, name)
}

impl Model {
    /// Returns Ok(Some(name)) for a fleet result, Ok(None) for Done, Err(kind) otherwise.
    fn apply(&mut self, cmd: &Command) -> Result<Option<String>, &'static str> {
        match cmd {
            Command::CreateFleet {
                fleet_id,
                spec,
                idempotency_token,
                ..
            } => {
                if spec.name.is_empty() || spec.name.chars().count() > 1024 {
                    return Err("invalid");
                }
                if let Some(t) = idempotency_token
                    && let Some((id, name)) = self.tokens.get(t)
                {
                    if *name != spec.name {
                        return Err("mismatch");
                    }
                    return match self.fleets.get(id) {
                        Some(f) => Ok(Some(f.name.clone())),
                        None => Err("not_found"),
                    };
                }
                if self.fleets.contains_key(fleet_id) {
                    return Err("invalid");
                }
                self.fleets.insert(
                    fleet_id.clone(),
                    ModelFleet {
                        name: spec.name.clone(),
                        deleting: false,
                    },
                );
                if let Some(t) = idempotency_token {
                    self.tokens
                        .insert(t.clone(), (fleet_id.clone(), spec.name.clone()));
                }
                Ok(Some(spec.name.clone()))
            }
            Command::UpdateFleetAttributes { fleet_id, update } => {
                if update.name.as_ref().is_some_and(|n| n.is_empty()) {
                    return Err("invalid");
                }
                let f = self.fleets.get_mut(fleet_id).ok_or("not_found")?;
                if f.deleting {
                    return Err("status");
                }
                if let Some(n) = &update.name {
                    f.name = n.clone();
                }
                Ok(Some(f.name.clone()))
            }
            Command::DeleteFleet { fleet_id, .. } => {
                let f = self.fleets.get_mut(fleet_id).ok_or("not_found")?;
                f.deleting = true;
                Ok(Some(f.name.clone()))
            }
            Command::FinalizeFleetDeletion { fleet_id, .. } => {
                let f = self.fleets.get(fleet_id).ok_or("not_found")?;
                if !f.deleting {
                    return Err("status");
                }
                self.fleets.remove(fleet_id);
                Ok(None)
            }
        }
    }
}

fn kind(e: &FsmError) -> &'static str {
    match e {
        FsmError::InvalidArgument { .. } => "invalid",
        FsmError::NotFound { .. } => "not_found",
        FsmError::InvalidStatus { .. } => "status",
        FsmError::IdempotentParameterMismatch { .. } => "mismatch",
        FsmError::LimitExceeded { .. } => "limit",
        FsmError::UnsupportedVersion { .. } => "version",
    }
}

fn arb_cmd() -> impl Strategy<Value = Command> {
    let id = (0u8..6).prop_map(|i| format!("fleet-{i}"));
    let name = prop_oneof![Just(String::new()), "[a-z]{1,8}"];
    let token = proptest::option::of((0u8..4).prop_map(|i| format!("tok-{i}")));
    let at = 0i64..1_000;
    prop_oneof![
        (id.clone(), name.clone(), token, at.clone()).prop_map(
            |(fleet_id, name, idempotency_token, at_ms)| {
                Command::CreateFleet {
                    arn: format!("arn:gamefleet:local::fleet/{fleet_id}"),
                    fleet_id,
                    spec: FleetSpec {
                        name,
                        ..Default::default()
                    },
                    idempotency_token,
                    at_ms,
                }
            }
        ),
        (id.clone(), proptest::option::of(name)).prop_map(|(fleet_id, name)| {
            Command::UpdateFleetAttributes {
                fleet_id,
                update: FleetUpdate {
                    name,
                    ..Default::default()
                },
            }
        }),
        (id.clone(), at.clone())
            .prop_map(|(fleet_id, at_ms)| Command::DeleteFleet { fleet_id, at_ms }),
        (id, at).prop_map(|(fleet_id, at_ms)| Command::FinalizeFleetDeletion { fleet_id, at_ms }),
    ]
}

proptest! {
    #[test]
    fn apply_agrees_with_model(cmds in proptest::collection::vec(arb_cmd(), 0..60)) {
        let mut state = State::default();
        let mut model = Model::default();
        for cmd in &cmds {
            let before = state.clone();
            let got = apply(&mut state, cmd);
            let want = model.apply(cmd);
            match (&got, &want) {
                (Ok(Output::Fleet(f)), Ok(Some(name))) => prop_assert_eq!(&f.spec.name, name),
                (Ok(Output::Done), Ok(None)) => {}
                (Err(e), Err(k)) => {
                    prop_assert_eq!(kind(e), *k);
                    prop_assert_eq!(&state, &before, "a refused command changed the state");
                }
                _ => prop_assert!(false, "{cmd:?}: fsm {got:?}, model {want:?}"),
            }
            let observed: BTreeMap<String, ModelFleet> = state.fleets.iter()
                .map(|(id, f)| (id.clone(), ModelFleet { name: f.spec.name.clone(), deleting: f.is_deleting() }))
                .collect();
            prop_assert_eq!(&observed, &model.fleets);
        }
    }

    #[test]
    fn replicas_fed_the_same_log_agree(cmds in proptest::collection::vec(arb_cmd(), 0..60), split in 0usize..60) {
        // Replica A applies everything one command per batch; replica B applies the
        // same commands packed into two batches (as group commit may pack them) and
        // through a snapshot round-trip in the middle.
        let mut a = State::default();
        let mut results_a = Vec::new();
        for c in &cmds {
            results_a.extend(apply_batch(&mut a, &Batch::new(vec![c.clone()])));
        }
        let split = split.min(cmds.len());
        let mut b = State::default();
        let mut results_b = apply_batch(&mut b, &Batch::new(cmds[..split].to_vec()));
        let bytes = serde_json::to_vec(&b).unwrap();
        let mut b: State = serde_json::from_slice(&bytes).unwrap();
        results_b.extend(apply_batch(&mut b, &Batch::new(cmds[split..].to_vec())));
        prop_assert_eq!(results_a, results_b);
        prop_assert_eq!(a.hash(), b.hash());
        prop_assert_eq!(a, b);
    }
}

#[test]
fn newer_format_is_refused_without_change() {
    let mut s = State::default();
    let batch = Batch {
        version: FORMAT_VERSION + 1,
        commands: vec![Command::DeleteFleet {
            fleet_id: "fleet-1".into(),
            at_ms: 0,
        }],
    };
    let out = apply_batch(&mut s, &batch);
    assert!(matches!(out[0], Err(FsmError::UnsupportedVersion { .. })));
    assert_eq!(s, State::default());
}

#[test]
fn idempotency_tokens_expire_after_ttl() {
    let mut s = State::default();
    let create = |id: &str, at_ms| Command::CreateFleet {
        fleet_id: id.into(),
        arn: String::new(),
        spec: FleetSpec {
            name: "n".into(),
            ..Default::default()
        },
        idempotency_token: Some("t".into()),
        at_ms,
    };
    let first = apply(&mut s, &create("fleet-a", 0)).unwrap();
    let again = apply(&mut s, &create("fleet-b", 10)).unwrap();
    assert_eq!(first, again, "a retried create returns the original fleet");
    assert_eq!(s.fleets.len(), 1);
    apply(&mut s, &create("fleet-c", IDEMPOTENCY_TTL_MS + 1)).unwrap();
    assert_eq!(s.fleets.len(), 2, "an expired token creates a new fleet");
}

#[test]
fn hash_changes_with_state() {
    let mut s = State::default();
    let h0 = s.hash();
    apply(
        &mut s,
        &Command::CreateFleet {
            fleet_id: "fleet-1".into(),
            arn: String::new(),
            spec: FleetSpec {
                name: "n".into(),
                ..Default::default()
            },
            idempotency_token: None,
            at_ms: 1,
        },
    )
    .unwrap();
    assert_ne!(h0, s.hash());
}
