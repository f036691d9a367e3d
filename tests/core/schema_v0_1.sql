-- The schema as version 0.1 made it (create_all, then APScheduler's job store), frozen for the upgrade test.
CREATE TABLE announcement (
	id INTEGER NOT NULL, 
	platform VARCHAR NOT NULL, 
	server_id VARCHAR NOT NULL, 
	channel_id VARCHAR NOT NULL, 
	origin_channel_id VARCHAR NOT NULL, 
	persona VARCHAR NOT NULL, 
	text VARCHAR NOT NULL, 
	crontab VARCHAR NOT NULL, 
	timezone VARCHAR NOT NULL, 
	next_post_at DATETIME NOT NULL, 
	video_path VARCHAR NOT NULL, 
	video_duration FLOAT NOT NULL, 
	created_by VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE contest (
	id INTEGER NOT NULL, 
	platform VARCHAR NOT NULL, 
	server_id VARCHAR NOT NULL, 
	channel_id VARCHAR NOT NULL, 
	theme VARCHAR NOT NULL, 
	personas_csv VARCHAR NOT NULL, 
	ends_at DATETIME NOT NULL, 
	started_by VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	closed_at DATETIME, 
	standings_json VARCHAR NOT NULL, 
	announce_attempts INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE contestentry (
	id INTEGER NOT NULL, 
	contest_id INTEGER NOT NULL, 
	user_id VARCHAR NOT NULL, 
	user_name VARCHAR NOT NULL, 
	revision INTEGER NOT NULL, 
	entered_at DATETIME NOT NULL, 
	videos_json VARCHAR NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (contest_id, user_id), 
	FOREIGN KEY(contest_id) REFERENCES contest (id)
);
CREATE TABLE keptfile (
	id INTEGER NOT NULL, 
	path VARCHAR NOT NULL, 
	owner VARCHAR NOT NULL, 
	until DATETIME, 
	PRIMARY KEY (id)
);
CREATE TABLE membervoice (
	id INTEGER NOT NULL, 
	platform VARCHAR NOT NULL, 
	user_id VARCHAR NOT NULL, 
	file_name VARCHAR NOT NULL, 
	sha256 VARCHAR NOT NULL, 
	duration FLOAT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (platform, user_id)
);
CREATE TABLE personamemory (
	id INTEGER NOT NULL, 
	persona VARCHAR NOT NULL, 
	platform VARCHAR NOT NULL, 
	scope VARCHAR NOT NULL, 
	user_id VARCHAR NOT NULL, 
	user_name VARCHAR NOT NULL, 
	turns_json VARCHAR NOT NULL, 
	facts_json VARCHAR NOT NULL, 
	summary VARCHAR NOT NULL, 
	first_seen DATETIME NOT NULL, 
	last_seen DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (persona, platform, scope, user_id)
);
CREATE TABLE pollmessage (
	id INTEGER NOT NULL, 
	platform VARCHAR NOT NULL, 
	message_id VARCHAR NOT NULL, 
	poll_id VARCHAR NOT NULL, 
	options_json VARCHAR NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (platform, message_id)
);
CREATE TABLE pollvote (
	id INTEGER NOT NULL, 
	platform VARCHAR NOT NULL, 
	poll_id VARCHAR NOT NULL, 
	user_id VARCHAR NOT NULL, 
	option VARCHAR NOT NULL, 
	at DATETIME NOT NULL, 
	previous VARCHAR, 
	PRIMARY KEY (id), 
	UNIQUE (platform, poll_id, user_id)
);
CREATE TABLE renderrecord (
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	platform VARCHAR NOT NULL, 
	server_id VARCHAR NOT NULL, 
	user_id VARCHAR NOT NULL, 
	persona VARCHAR NOT NULL, 
	path VARCHAR NOT NULL, 
	duration FLOAT NOT NULL, 
	elapsed FLOAT NOT NULL, 
	cached BOOLEAN NOT NULL, 
	deleted_at DATETIME, 
	PRIMARY KEY (id)
);
CREATE TABLE scheduled_jobs (
	id VARCHAR(191) NOT NULL, 
	next_run_time FLOAT, 
	job_state BLOB NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE serveroverride (
	id INTEGER NOT NULL, 
	platform VARCHAR NOT NULL, 
	server_id VARCHAR NOT NULL, 
	"key" VARCHAR NOT NULL, 
	value_json VARCHAR NOT NULL, 
	changed_by VARCHAR NOT NULL, 
	changed_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (platform, server_id, "key")
);
CREATE TABLE welcomeoptout (
	id INTEGER NOT NULL, 
	platform VARCHAR NOT NULL, 
	server_id VARCHAR NOT NULL, 
	user_id VARCHAR NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (platform, server_id, user_id)
);
CREATE INDEX ix_announcement_platform ON announcement (platform);
CREATE INDEX ix_announcement_server_id ON announcement (server_id);
CREATE INDEX ix_contest_platform ON contest (platform);
CREATE INDEX ix_contest_server_id ON contest (server_id);
CREATE INDEX ix_contest_status ON contest (status);
CREATE INDEX ix_contestentry_contest_id ON contestentry (contest_id);
CREATE INDEX ix_keptfile_owner ON keptfile (owner);
CREATE INDEX ix_keptfile_path ON keptfile (path);
CREATE INDEX ix_membervoice_user_id ON membervoice (user_id);
CREATE INDEX ix_personamemory_persona ON personamemory (persona);
CREATE INDEX ix_personamemory_user_id ON personamemory (user_id);
CREATE INDEX ix_pollvote_platform ON pollvote (platform);
CREATE INDEX ix_pollvote_poll_id ON pollvote (poll_id);
CREATE INDEX ix_renderrecord_created_at ON renderrecord (created_at);
CREATE INDEX ix_scheduled_jobs_next_run_time ON scheduled_jobs (next_run_time);
CREATE INDEX ix_serveroverride_platform ON serveroverride (platform);
CREATE INDEX ix_serveroverride_server_id ON serveroverride (server_id);
