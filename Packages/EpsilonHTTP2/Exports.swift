/// EpsilonHTTP2 re-exports EpsilonHPACK, so an application that sends headers with
/// `HPACKHeaderField` (or reads `HPACKHeaderFieldView`s) needs no second import.
@_exported import EpsilonHPACK
