//! End-to-end tests: a real server on a loopback port (or the `twiml-edge` binary), one module
//! per area, in one binary so wasmtime links once.

mod common;

mod bins;
mod cli;
mod control_plane;
mod developer_loop;
mod durability;
mod functions;
mod hostile;
mod http;
mod sdk_documents;
mod simulator;
mod twilio_compat;
mod world;
