//! One connection to a Modbus TCP controller or an RS-485 bus, and one request at a time over
//! it, each bounded by a timeout.
//!
//! tokio-modbus has no timeout and no reconnect of its own, and a late reply on a reused
//! connection would be read as the answer to the next request. So: every request is wrapped in
//! a timeout. On TCP, after a timeout or a transport error the connection is dropped and opened
//! afresh. On RTU a timeout is one unit's silence, not the bus's: the port stays open (so other
//! units' locks are not re-written) and tokio-modbus clears what it had read before the next
//! request; only a transport error (the port failed, or a reply that does not match its
//! request, such as a straggler from a unit given up on) reopens the port, which flushes its
//! input buffer.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;
use tokio_modbus::client::{Client, Context};
use tokio_modbus::prelude::SlaveContext;
use tokio_modbus::{ExceptionCode, Request, Response, Slave};

/// Where the controllers are.
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// `host:port` (port 502 when omitted).
    Tcp(String),
    Rtu(SerialSettings),
}

/// Serial line settings of an RS-485 bus.
#[derive(Clone, Debug)]
pub struct SerialSettings {
    pub path: String,
    pub baud: u32,
    /// `N`, `E` or `O`.
    pub parity: String,
    pub data_bits: u8,
    pub stop_bits: u8,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No answer within the request's timeout; the connection was dropped.
    #[error("no answer within {0} ms")]
    Timeout(u64),
    /// The connection could not be opened.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The connection failed or the reply did not match the request; it was dropped.
    #[error("transport: {0}")]
    Transport(String),
    /// The controller answered with a Modbus exception (it is alive, the request was wrong).
    #[error("the controller refused the request: {0:?}")]
    Exception(ExceptionCode),
    /// A reply that does not match its request (another unit's late answer on a shared bus,
    /// or line noise); the port was reopened to flush it. Not the addressed unit's fault.
    #[error("a reply that does not match the request: {0}")]
    Stray(String),
    /// A unit backed off, or slow past its patience, was given up on so live units' work
    /// could use the shared bus.
    #[error("no answer within {0} ms; the bus was needed for other units")]
    Abandoned(u64),
}

impl LinkError {
    /// Whether the controller answered at all (an exception is an answer).
    pub fn answered(&self) -> bool {
        matches!(self, LinkError::Exception(_))
    }
}

pub struct Link {
    endpoint: Endpoint,
    context: Option<Context>,
    /// Counts connections opened (for logs and tests).
    pub generation: u64,
}

impl Link {
    pub fn new(endpoint: Endpoint) -> Link {
        Link {
            endpoint,
            context: None,
            generation: 0,
        }
    }

    pub fn is_rtu(&self) -> bool {
        matches!(self.endpoint, Endpoint::Rtu(_))
    }

    /// Sends one request to `unit` and waits at most `timeout` for the answer (connecting
    /// first when needed, within the same bound).
    pub async fn call(
        &mut self,
        unit: u8,
        request: Request<'static>,
        timeout: Duration,
    ) -> Result<Response, LinkError> {
        let deadline = Instant::now() + timeout;
        if self.context.is_none() {
            let opened = tokio::time::timeout_at(deadline, open(self.endpoint.clone())).await;
            match opened {
                Ok(Ok(context)) => {
                    self.context = Some(context);
                    self.generation += 1;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return Err(LinkError::Connect(format!(
                        "no connection within {} ms",
                        timeout.as_millis()
                    )));
                }
            }
        }
        let context = self.context.as_mut().expect("connected above");
        context.set_slave(Slave(unit));
        match tokio::time::timeout_at(deadline, context.call(request)).await {
            Ok(Ok(Ok(response))) => Ok(response),
            Ok(Ok(Err(exception))) => Err(LinkError::Exception(exception)),
            Ok(Err(tokio_modbus::Error::Protocol(e))) => {
                self.context = None;
                Err(LinkError::Stray(e.to_string()))
            }
            Ok(Err(e)) => {
                self.context = None;
                Err(LinkError::Transport(e.to_string()))
            }
            Err(_) => {
                if !self.is_rtu() {
                    self.context = None;
                }
                Err(LinkError::Timeout(timeout.as_millis() as u64))
            }
        }
    }

    /// A request was given up on before its answer (the bus needed it): on TCP the connection
    /// could still deliver the late answer, so it is dropped; on RTU the next request's clear
    /// of the read buffer is enough for a unit that stays silent.
    pub fn abandoned(&mut self) {
        if !self.is_rtu() {
            self.context = None;
        }
    }
}

/// Opens a connection to `endpoint`.
async fn open(endpoint: Endpoint) -> Result<Context, LinkError> {
    match &endpoint {
        Endpoint::Tcp(address) => {
            let address = if address.contains(':') {
                address.clone()
            } else {
                format!("{address}:502")
            };
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host(&address)
                .await
                .map_err(|e| LinkError::Connect(format!("{address}: {e}")))?
                .collect();
            let first = addrs
                .first()
                .ok_or_else(|| LinkError::Connect(format!("{address}: no address")))?;
            let stream = tokio::net::TcpStream::connect(first)
                .await
                .map_err(|e| LinkError::Connect(format!("{address}: {e}")))?;
            // Requests are small and answered one at a time: Nagle would only add delay.
            stream
                .set_nodelay(true)
                .map_err(|e| LinkError::Connect(e.to_string()))?;
            Ok(tokio_modbus::client::tcp::attach(stream))
        }
        Endpoint::Rtu(serial) => {
            use tokio_serial::SerialPort;
            let port = tokio_serial::SerialStream::open(&serial_builder(serial))
                .map_err(|e| LinkError::Connect(format!("{}: {e}", serial.path)))?;
            // Whatever is waiting on the line belongs to an earlier, abandoned request.
            let _ = port.clear(tokio_serial::ClearBuffer::Input);
            Ok(tokio_modbus::client::rtu::attach(port))
        }
    }
}

/// The serial port settings of `serial` (used by the gateway and by the RTU simulator).
pub fn serial_builder(serial: &SerialSettings) -> tokio_serial::SerialPortBuilder {
    let parity = match serial.parity.to_ascii_uppercase().as_str() {
        "E" | "EVEN" => tokio_serial::Parity::Even,
        "O" | "ODD" => tokio_serial::Parity::Odd,
        _ => tokio_serial::Parity::None,
    };
    let data_bits = match serial.data_bits {
        5 => tokio_serial::DataBits::Five,
        6 => tokio_serial::DataBits::Six,
        7 => tokio_serial::DataBits::Seven,
        _ => tokio_serial::DataBits::Eight,
    };
    let stop_bits = if serial.stop_bits == 2 {
        tokio_serial::StopBits::Two
    } else {
        tokio_serial::StopBits::One
    };
    tokio_serial::new(&serial.path, serial.baud)
        .parity(parity)
        .data_bits(data_bits)
        .stop_bits(stop_bits)
}
