CREATE TABLE `room_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`room` text NOT NULL,
	`packet` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `room_events_room_idx` ON `room_events` (`room`,`id`);--> statement-breakpoint
CREATE INDEX `room_events_created_idx` ON `room_events` (`created_at`);--> statement-breakpoint
CREATE TABLE `socket_sessions` (
	`pid` text PRIMARY KEY NOT NULL,
	`socket_id` text NOT NULL,
	`user_id` text NOT NULL,
	`rooms` text NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
