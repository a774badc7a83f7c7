//! The tokio-modbus server `Service` of the simulators: finds the addressed controller,
//! applies its faults (silent, slow) and answers from its memory.

use super::SimController;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio_modbus::{ExceptionCode, Response, SlaveRequest};

/// Serves one controller (TCP: whatever unit id is asked) or several on one bus (RTU: by unit
/// id; a unit that is not there stays silent, as on a real bus).
#[derive(Clone)]
pub struct SimService {
    units: Arc<HashMap<u8, Arc<SimController>>>,
    any_unit: Option<Arc<SimController>>,
}

impl SimService {
    /// A TCP server's service: one controller, any unit id.
    pub fn single(controller: Arc<SimController>) -> SimService {
        SimService {
            units: Arc::new(HashMap::new()),
            any_unit: Some(controller),
        }
    }

    /// An RS-485 bus: the controllers by unit id.
    pub fn bus(units: HashMap<u8, Arc<SimController>>) -> SimService {
        SimService {
            units: Arc::new(units),
            any_unit: None,
        }
    }
}

type Answer = Result<Option<Response>, ExceptionCode>;

impl tokio_modbus::server::Service for SimService {
    type Request = SlaveRequest<'static>;
    type Response = Option<Response>;
    type Exception = ExceptionCode;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn call(&self, req: Self::Request) -> Self::Future {
        let controller = self
            .any_unit
            .clone()
            .or_else(|| self.units.get(&req.slave).cloned());
        let Some(controller) = controller else {
            return Box::pin(std::future::ready(Ok(None)));
        };
        let (silent, slow) = controller.faults();
        if silent {
            return Box::pin(std::future::ready(Ok(None)));
        }
        let answer = controller.answer(&req.request, slow.is_some()).map(Some);
        match slow {
            Some(delay) => Box::pin(async move {
                tokio::time::sleep(delay).await;
                answer
            }),
            None => Box::pin(std::future::ready(answer)),
        }
    }
}
