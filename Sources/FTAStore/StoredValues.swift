import FTACore
import GRDB

// How FTACore's typed values are stored. FTACore knows nothing of SQLite, so the store gives
// them their column representation here: ids and enums are TEXT columns holding the raw
// string, and a stored string that is not a valid value fails the fetch with a decoding error
// instead of becoming a default (a hand-edited or corrupt row must not pass for a small bot).

extension ValidatedIdentifier where Self: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { rawValue.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Self? {
        String.fromDatabaseValue(dbValue).flatMap(Self.init)
    }
}

extension ClientID: DatabaseValueConvertible {}
extension BotID: DatabaseValueConvertible {}

// RawRepresentable enums get GRDB's raw-value implementation.
extension BotSize: DatabaseValueConvertible {}
extension BotState: DatabaseValueConvertible {}
extension DesiredState: DatabaseValueConvertible {}
extension Role: DatabaseValueConvertible {}
