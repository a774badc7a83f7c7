//! The core: one owner of all live state, fed inputs one at a time with the time as an
//! argument. `handle` is deterministic: same state, same input, same time, same outputs.
//!
//! Each concept keeps its state in its own module (`doors`, `lockdown`, `fire`, `presence`,
//! `command`, …); this file only holds them together and routes inputs.

use crate::config::Config;
use crate::estate::EstateData;
use crate::event::{Event, Kind};
use crate::io::{Admin, Effect, Input, Output, Publish};
use crate::model::Model;
use jiff::Timestamp;

/// Live state restored at start-up, besides the estate data.
#[derive(Clone, Debug, Default)]
pub struct Restored {
    pub lockdowns: Vec<crate::lockdown::Lockdown>,
    pub fire_zones: Vec<crate::fire::FireZone>,
    /// Doors the office holds open, with when each hold ends.
    pub holds: Vec<crate::holds::Hold>,
    /// Highest accepted counter per issuer.
    pub command_counters: Vec<(String, u64)>,
    /// Recent events (at least `apb_timeout` and one quota period back), oldest first, to
    /// rebuild presence, quotas and seen command ids.
    pub recent_events: Vec<Event>,
    /// The gateway's own Ed25519 secret key: signs and verifies visitor QR tokens.
    pub gateway_key: Option<[u8; 32]>,
}

pub struct Core {
    /// The estate as configured, indexed for lookups.
    pub(crate) model: Model,
    pub(crate) doors: crate::doors::Doors,
    pub(crate) lockdown: crate::lockdown::Lockdowns,
    pub(crate) fire: crate::fire::Fire,
    pub(crate) presence: crate::presence::Presence,
    pub(crate) commands: crate::command::CommandGuard,
    /// False while the log cannot be written: entries are denied with `log_unavailable`.
    pub(crate) log_writable: bool,
    /// Compiled schedules, and each door's schedule state at the last tick.
    pub(crate) schedules: crate::schedule::Schedules,
    /// Recent exits per household, for `limited_exit` quotas.
    pub(crate) quotas: crate::quota::Quotas,
    /// Consecutive phone mismatches per pass (lent-pass detection).
    pub(crate) phone_failures: crate::phone_failures::PhoneFailures,
    /// Visitor QR tokens are signed and verified with this key.
    pub(crate) gateway_key: Option<crate::visitor::GatewayKey>,
    /// Doors the office holds open (persisted; re-asserted after a restart).
    pub(crate) holds: crate::holds::Holds,
    /// Whether the first tick has run (it re-asserts restored fire releases).
    pub(crate) started: bool,
    /// Damaged records the last check of the log found.
    pub(crate) log_damage: crate::log_damage::LogDamage,
}

/// Why a core could not be built from a configuration.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("configuration: {0}")]
    Config(String),
}

impl Core {
    /// Builds the core from a validated configuration, the store's estate data and the state
    /// restored from the store.
    pub fn new(config: &Config, estate: EstateData, restored: Restored) -> Result<Core, CoreError> {
        let model = Model::new(config, estate)?;
        let schedules =
            crate::schedule::Schedules::new(&config.schedules).map_err(CoreError::Config)?;
        let mut core = Core {
            doors: crate::doors::Doors::new(&model),
            lockdown: crate::lockdown::Lockdowns::new(restored.lockdowns),
            fire: crate::fire::Fire::new(restored.fire_zones),
            presence: crate::presence::Presence::default(),
            commands: crate::command::CommandGuard::new(restored.command_counters)
                .with_issuers(&config.issuers),
            model,
            log_writable: true,
            schedules,
            quotas: crate::quota::Quotas::default(),
            phone_failures: crate::phone_failures::PhoneFailures::default(),
            gateway_key: restored.gateway_key.map(crate::visitor::GatewayKey::new),
            holds: crate::holds::Holds::new(restored.holds),
            started: false,
            log_damage: crate::log_damage::LogDamage::default(),
        };
        for event in &restored.recent_events {
            core.replay(event);
        }
        core.settle_door_modes();
        Ok(core)
    }

    /// The estate model (read-only), for adapters that need to look things up.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Every door's live state, in configuration order.
    pub fn door_states(&self) -> Vec<crate::doors::DoorState> {
        self.model
            .door_order
            .iter()
            .filter_map(|id| self.doors.state(id).cloned())
            .collect()
    }

    /// Zones under lockdown now.
    pub fn lockdowns(&self) -> &[crate::lockdown::Lockdown] {
        self.lockdown.active()
    }

    /// How many more wrong phone digits `pass` may take before it is suspended (a possibly
    /// lent pass), counting the mismatches of the current window.
    pub fn phone_tries_left(&self, pass: &str, now: Timestamp) -> u32 {
        let window =
            jiff::SignedDuration::from_mins(i64::from(self.model.policy.phone_failure_window_min));
        let counted = self.phone_failures.count(pass, now, window);
        self.model.policy.max_phone_failures.saturating_sub(counted)
    }

    /// Whether the log is writable as far as the core knows.
    pub fn log_writable(&self) -> bool {
        self.log_writable
    }

    /// Alarms raised and not yet cleared: doors held open past their limit and tamper inputs
    /// still active (one each per door), and damage found in the log (one).
    pub fn active_alarms(&self) -> usize {
        self.doors.active_alarms() + usize::from(self.log_damage.active())
    }

    /// Whether controller (device) `id` was last reported online; `None` before it reported
    /// a change (a controller is presumed online until it fails).
    pub fn device_online(&self, id: &str) -> Option<bool> {
        self.doors.device_online(id)
    }

    /// Handles one input at `now`.
    pub fn handle(&mut self, input: Input, now: Timestamp) -> Vec<Output> {
        match input {
            Input::Access(req) => self.on_access(req, now),
            Input::ManualEntry(entry) => self.on_manual_entry(entry, now),
            Input::DoorSignal(signal) => self.on_door_signal(signal, now),
            Input::Fire {
                zone,
                active,
                source,
            } => self.on_fire(&zone, active, &source, now),
            Input::Device(health) => self.on_device(health, now),
            Input::Command(cmd) => self.on_command(cmd, now),
            Input::Admin(admin) => self.on_admin(admin, now),
            Input::Rejected { source, error } => {
                let mut event = self.event(Kind::RejectedInput, now);
                event.source = Some(source);
                event.error = Some(error);
                vec![Output::Record {
                    event,
                    then: vec![],
                }]
            }
            Input::Refused(summary) => {
                let mut event = self.event(Kind::RejectedInput, now);
                event.source = Some(summary.source);
                event.error = Some(summary.error);
                event.sample = summary.sample;
                event.count = Some(summary.count);
                event.first_at = Some(self.model.stamp(summary.first));
                event.last_at = Some(self.model.stamp(summary.last));
                vec![Output::Record {
                    event,
                    then: vec![],
                }]
            }
            Input::LogWritable(ok) => self.on_log_writable(ok, now),
            Input::LogDamaged { ranges } => self.on_log_damaged(ranges, now),
            Input::UnlockFailed(failure) => self.on_unlock_failed(failure, now),
            Input::ClockJumped { by } => self.on_clock_jump(by, now),
            Input::Tick => {
                let mut outputs = self.on_tick(now);
                outputs.extend(self.supervise_doors(now));
                outputs
            }
        }
    }

    /// Puts back the state the store holds, after the log failed to write records whose
    /// changes the core had already made (a pass suspended, a lockdown set while the disk
    /// failed): estate data, lockdowns, holds, command counters, and presence and quotas
    /// replayed from the log. What lives only in memory is kept: door and device supervision,
    /// fire inputs, schedule state, phone-mismatch counts. Returns the door states and the
    /// lockdown table to publish, so live views show the state as it is again.
    pub fn reload(
        &mut self,
        config: &Config,
        estate: EstateData,
        restored: Restored,
        now: Timestamp,
    ) -> Result<Vec<Output>, CoreError> {
        let stored = Core::new(config, estate, restored)?;
        self.model = stored.model;
        self.lockdown = stored.lockdown;
        self.presence = stored.presence;
        self.commands = stored.commands;
        self.quotas = stored.quotas;
        self.holds = stored.holds;
        let mut out: Vec<Output> = self
            .refresh_door_modes(now)
            .into_iter()
            .map(Output::Effect)
            .collect();
        out.push(Output::Effect(Effect::Publish(Publish::Lockdowns(
            self.lockdown.active().to_vec(),
        ))));
        Ok(out)
    }

    /// Applies a past event to live state without producing outputs (start-up rebuild).
    pub fn replay(&mut self, event: &Event) {
        self.presence.replay(event, &self.model);
        self.quotas.replay(event, &self.model);
        self.commands.replay(event);
    }

    /// A new event of `kind` stamped `now` in the site's offset.
    pub(crate) fn event(&self, kind: Kind, now: Timestamp) -> Event {
        Event::new(kind, self.model.stamp(now))
    }

    fn on_admin(&mut self, admin: Admin, now: Timestamp) -> Vec<Output> {
        crate::admin::handle(self, admin, now)
    }
}
