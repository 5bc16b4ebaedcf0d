//! The API suite: a real server on port 0 over a fresh database, driven over
//! HTTP. Every test runs on SQLite, and on PostgreSQL when
//! CARECENTER_TEST_POSTGRES_URL is set.

mod harness;

mod admin;
mod authz;
mod board;
mod browser;
mod cases;
mod cti;
mod customers;
mod import;
mod knowledge;
mod mail;
mod pages;
mod portal;
mod routing;
mod scripts;
mod search;
mod session;
mod sla;
mod staffing;
mod tasks;
