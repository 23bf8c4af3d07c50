CREATE TABLE `account_exports` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`state` text DEFAULT 'running' NOT NULL,
	`until_seq` integer NOT NULL,
	`cursor` integer DEFAULT 0 NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`messages` integer DEFAULT 0 NOT NULL,
	`lease_node` text,
	`lease_until` integer DEFAULT 0 NOT NULL,
	`storage_key` text,
	`created_at` integer NOT NULL,
	`finished_at` integer,
	`expires_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `account_exports_user_idx` ON `account_exports` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `account_exports_state_idx` ON `account_exports` (`state`,`lease_until`);--> statement-breakpoint
CREATE TABLE `erasures` (
	`user_id` text PRIMARY KEY NOT NULL,
	`requested_by` text NOT NULL,
	`phase` text DEFAULT 'account' NOT NULL,
	`cursor` integer DEFAULT 0 NOT NULL,
	`log_floor` integer NOT NULL,
	`outbox_floor` integer NOT NULL,
	`messages` integer DEFAULT 0 NOT NULL,
	`lease_node` text,
	`lease_until` integer DEFAULT 0 NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `erasures_phase_idx` ON `erasures` (`phase`,`lease_until`);--> statement-breakpoint
CREATE TABLE `username_holds` (
	`username_hash` text PRIMARY KEY NOT NULL,
	`until` integer NOT NULL
);
